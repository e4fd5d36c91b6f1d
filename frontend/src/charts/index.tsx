import { lazy, Suspense, type ReactNode } from 'react';
import type { PriceChartProps } from './PriceChart';
import type { LineSeriesInput } from './LineChart';

// lightweight-charts is loaded with the first chart, never with the first page.
const LazyPriceChart = lazy(() => import('./PriceChart'));
const LazyLineChart = lazy(() => import('./LineChart'));

interface Described {
  /** What the chart shows, for screen readers (the canvas itself says nothing). */
  label: string;
  children?: ReactNode;
}

function ChartFrame({ label, height, children }: Described & { height: number }) {
  return (
    <figure className="chart" aria-label={label}>
      <Suspense fallback={<div className="chart-canvas chart-loading" style={{ height }}>Loading chart…</div>}>{children}</Suspense>
    </figure>
  );
}

export function PriceChart({ label, height = 360, ...props }: PriceChartProps & Described) {
  return (
    <ChartFrame label={label} height={height}>
      <LazyPriceChart height={height} {...props} />
    </ChartFrame>
  );
}

export function LineChart({ label, series, height = 220 }: Described & { series: readonly LineSeriesInput[]; height?: number }) {
  return (
    <ChartFrame label={label} height={height}>
      <LazyLineChart series={series} height={height} />
    </ChartFrame>
  );
}

export type { ChartCandle, ChartLine, ChartMarker, SeriesPoint } from './types';
export { chartColours } from './types';
