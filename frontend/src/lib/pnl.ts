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

type Clocked = Pick<RunStatus, 'status' | 'created_at' | 'updated_at' | 'clock_ts' | 'started_ts' | 'latest'>;

/**
 * How long the run has traded, on its own clock: from its first snapshot to the newest moment
 * it recorded (its saved clock or its newest snapshot), and while it runs the wall time since it
 * saved its clock. A paper replay's clock is the replay's (a week replayed in a minute has traded
 * a week); a live run's is the exchange's. Before its first snapshot: wall time since creation.
 */
export function uptimeMs(run: Clocked, now: number): number {
  const started = run.started_ts;
  if (started === null || started === undefined) {
    const end = isActive(run.status) ? now : Date.parse(run.updated_at);
    return Math.max(0, end - Date.parse(run.created_at));
  }
  const clock = run.clock_ts ?? 0;
  const newest = Math.max(clock, run.latest?.ts ?? 0);
  // The wall time since the clock was saved counts only when nothing newer was recorded since.
  const since = isActive(run.status) && clock >= newest ? Math.max(0, now - Date.parse(run.updated_at)) : 0;
  return Math.max(0, newest - started) + since;
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
