import type { ChartMarker, SeriesPoint } from '../charts/types';
import type { Backtest } from '../api/types';

/**
 * The backtest's figures are a free-form object in the API (`result: {[key]: unknown}`): the
 * research engine's `GridResult.to_json()`; `figure` takes one and never trusts it to be there.
 * What the charts draw is typed: `equity_curve` (at most 500 closes, each stretch's lowest and
 * highest equity kept, with buy & hold at the same closes) and `fills` (the newest 500).
 */
export type BacktestResult = Record<string, unknown>;

export function figure(result: BacktestResult, name: string): number | null {
  const value = result[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Points in unix seconds, strictly increasing as the chart requires. */
function series(job: Backtest, value: (p: NonNullable<Backtest['equity_curve']>[number]) => number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const point of job.equity_curve ?? []) {
    const time = Math.floor(point.ts / 1000);
    if (points.length > 0 && time <= (points[points.length - 1]?.time ?? 0)) continue;
    points.push({ time, value: value(point) });
  }
  return points;
}

/** The grid's equity over the backtest (sampled by the API). */
export function equitySeries(job: Backtest): SeriesPoint[] {
  return series(job, (p) => p.equity);
}

/** The investment's worth of the coin bought at the first open and held, at the same closes. */
export function buyAndHoldSeries(job: Backtest): SeriesPoint[] {
  return series(job, (p) => p.buy_and_hold);
}

/** The backtest's fills as price-chart markers. */
export function fillMarkers(job: Backtest | undefined): ChartMarker[] {
  return (job?.fills ?? []).map((f) => ({ time: Math.floor(f.ts / 1000), side: f.side, price: f.price }));
}

/** "the newest 500 of 1,234 fills" when the API sent only the newest, else null. */
export function fillsShown(job: Backtest): string | null {
  const shown = job.fills?.length ?? 0;
  const total = job.fills_total ?? shown;
  return total > shown ? `the newest ${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} fills` : null;
}
