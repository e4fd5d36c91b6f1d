import type { RunStatus } from '../api/types';

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Below a day, an annualised figure is noise that looks like a promise: none is shown. */
const MIN_APR_SPAN_MS = 24 * 3600 * 1000;

export interface RunFigures {
  /** Equity now minus the capital the grid started with. */
  totalPnl: number;
  /** What the completed round trips earned, after fees. */
  gridProfit: number;
  /** The rest: the value change of the coins the grid holds. */
  pricePnl: number;
  roundTrips: number;
  aprPct: number | null;
  uptimeMs: number;
}

const ACTIVE = new Set(['created', 'running']);

export function isActive(status: string): boolean {
  return ACTIVE.has(status);
}

/** How long the run has traded: until now while it runs, else until its last update. */
export function uptimeMs(run: Pick<RunStatus, 'status' | 'created_at' | 'updated_at'>, now: number): number {
  const end = isActive(run.status) ? now : Date.parse(run.updated_at);
  return Math.max(0, end - Date.parse(run.created_at));
}

/** A run's P&L split, from its latest snapshot and the grid's investment; null before one. */
export function runFigures(run: RunStatus, investment: number, now: number): RunFigures | null {
  const latest = run.latest;
  if (!latest) return null;
  const totalPnl = latest.equity - investment;
  const uptime = uptimeMs(run, now);
  return {
    totalPnl,
    gridProfit: latest.grid_profit,
    pricePnl: totalPnl - latest.grid_profit,
    roundTrips: latest.round_trips,
    aprPct: uptime >= MIN_APR_SPAN_MS ? (totalPnl / investment) * (YEAR_MS / uptime) * 100 : null,
    uptimeMs: uptime,
  };
}
