import type { ChartCandle, SeriesPoint } from '../charts/types';

/**
 * The backtest result is a free-form object in the API (`result: {[key]: unknown}`): the
 * research engine's `GridResult.to_json()`. These readers take the figures the portal shows and
 * never trust a field to be there.
 */
export type BacktestResult = Record<string, unknown>;

export function figure(result: BacktestResult, name: string): number | null {
  const value = result[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

interface DailyPnl {
  day_ms: number;
  equity: number;
}

function dailyPoints(result: BacktestResult): DailyPnl[] {
  const daily = result.daily_pnl;
  if (!Array.isArray(daily)) return [];
  return daily.filter(
    (d: unknown): d is DailyPnl =>
      typeof d === 'object' && d !== null && typeof (d as DailyPnl).day_ms === 'number' && typeof (d as DailyPnl).equity === 'number',
  );
}

const DAY_MS = 86_400_000;

/** The grid's equity: the investment at the start, each day's closing equity, the final one. */
export function equitySeries(result: BacktestResult): SeriesPoint[] {
  const start = figure(result, 'start_ts');
  const end = figure(result, 'end_ts');
  const investment = figure(result, 'investment');
  const equity = figure(result, 'equity');
  if (start === null || end === null || investment === null || equity === null) return [];
  const points: SeriesPoint[] = [{ time: Math.floor(start / 1000), value: investment }];
  for (const day of dailyPoints(result)) {
    const close = Math.min(day.day_ms + DAY_MS, end);
    if (close > start && close < end) points.push({ time: Math.floor(close / 1000), value: day.equity });
  }
  points.push({ time: Math.floor(end / 1000), value: equity });
  return points;
}

/** Buying the investment's worth of the coin at the first open and holding it. */
export function buyAndHoldSeries(result: BacktestResult, candles: readonly ChartCandle[]): SeriesPoint[] {
  const investment = figure(result, 'investment');
  const firstOpen = figure(result, 'first_open');
  const start = figure(result, 'start_ts');
  const end = figure(result, 'end_ts');
  const pnl = figure(result, 'buy_and_hold_pnl');
  if (investment === null || firstOpen === null || start === null || end === null) return [];
  const inWindow = candles.filter((c) => c.time * 1000 >= start && c.time * 1000 <= end);
  if (inWindow.length > 1) return inWindow.map((c) => ({ time: c.time, value: (investment / firstOpen) * c.close }));
  if (pnl === null) return [];
  return [
    { time: Math.floor(start / 1000), value: investment },
    { time: Math.floor(end / 1000), value: investment + pnl },
  ];
}
