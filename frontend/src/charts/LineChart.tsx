import { useEffect, useRef } from 'react';
import { ColorType, LineSeries, createChart, type UTCTimestamp } from 'lightweight-charts';
import { chartColours, type SeriesPoint } from './types';

export interface LineSeriesInput {
  title: string;
  colour: string;
  points: readonly SeriesPoint[];
}

/** One or more value series over time (equity against buy & hold). */
export default function LineChart({ series, height = 220 }: { series: readonly LineSeriesInput[]; height?: number }) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!container.current) return;
    const chart = createChart(container.current, {
      height,
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: chartColours.text },
      grid: { vertLines: { visible: false }, horzLines: { color: 'rgba(39,48,67,0.6)' } },
      rightPriceScale: { borderColor: chartColours.border },
      timeScale: { borderColor: chartColours.border, timeVisible: true },
    });
    for (const input of series) {
      const line = chart.addSeries(LineSeries, { color: input.colour, lineWidth: 2, title: input.title });
      // The chart wants strictly increasing times: keep the last value of a repeated second.
      const byTime = new Map(input.points.map((p) => [p.time, p.value]));
      line.setData([...byTime].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time: time as UTCTimestamp, value })));
    }
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [series, height]);

  return <div ref={container} className="chart-canvas" style={{ height }} />;
}
