import { useEffect, useRef } from 'react';
import {
  CandlestickSeries,
  ColorType,
  LineStyle,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { chartColours, type ChartCandle, type ChartLine, type ChartMarker } from './types';
import { snapMarkers } from './snap';

export interface PriceChartProps {
  candles: readonly ChartCandle[];
  lines?: readonly ChartLine[];
  markers?: readonly ChartMarker[];
  height?: number;
}

const lineColour: Record<ChartLine['kind'], string> = {
  grid: chartColours.grid,
  bound: chartColours.bound,
  buy: chartColours.up,
  sell: chartColours.down,
};

/** Candles with the grid's lines and the fills, drawn by TradingView's lightweight-charts. */
export default function PriceChart({ candles, lines = [], markers = [], height = 360 }: PriceChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const markerLayer = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const priceLines = useRef<IPriceLine[]>([]);
  const fitted = useRef(false);

  useEffect(() => {
    if (!container.current) return;
    const created = createChart(container.current, {
      height,
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: chartColours.text },
      grid: { vertLines: { color: 'rgba(39,48,67,0.6)' }, horzLines: { color: 'rgba(39,48,67,0.6)' } },
      rightPriceScale: { borderColor: chartColours.border },
      timeScale: { borderColor: chartColours.border, timeVisible: true },
    });
    series.current = created.addSeries(CandlestickSeries, {
      upColor: chartColours.up,
      downColor: chartColours.down,
      wickUpColor: chartColours.up,
      wickDownColor: chartColours.down,
      borderVisible: false,
    });
    markerLayer.current = createSeriesMarkers(series.current, []);
    chart.current = created;
    return () => {
      created.remove();
      chart.current = null;
      series.current = null;
      markerLayer.current = null;
      priceLines.current = [];
      fitted.current = false;
    };
  }, [height]);

  useEffect(() => {
    series.current?.setData(
      candles.map((c) => ({ time: c.time as UTCTimestamp, open: c.open, high: c.high, low: c.low, close: c.close })),
    );
    if (!fitted.current && candles.length > 0) {
      chart.current?.timeScale().fitContent();
      fitted.current = true;
    }
  }, [candles]);

  useEffect(() => {
    const target = series.current;
    if (!target) return;
    for (const line of priceLines.current) target.removePriceLine(line);
    priceLines.current = lines.map((line) =>
      target.createPriceLine({
        price: line.price,
        color: lineColour[line.kind],
        lineWidth: line.kind === 'bound' ? 2 : 1,
        lineStyle: line.kind === 'grid' || line.kind === 'bound' ? LineStyle.Dashed : LineStyle.Solid,
        axisLabelVisible: line.kind !== 'grid',
        title: line.title ?? '',
      }),
    );
  }, [lines]);

  useEffect(() => {
    markerLayer.current?.setMarkers(
      snapMarkers(candles, markers).map((m) => ({
        time: m.time as UTCTimestamp,
        position: m.side === 'buy' ? 'belowBar' : 'aboveBar',
        color: m.side === 'buy' ? chartColours.up : chartColours.down,
        shape: m.side === 'buy' ? 'arrowUp' : 'arrowDown',
        text: m.side === 'buy' ? 'B' : 'S',
      })),
    );
  }, [candles, markers]);

  return <div ref={container} className="chart-canvas" style={{ height }} data-testid="price-chart" />;
}
