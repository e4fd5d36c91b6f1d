import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../api/types';
import { runFigures, uptimeMs } from './pnl';

const DAY = 86_400_000;

function run(overrides: Partial<RunStatus>): RunStatus {
  return {
    id: 'paper-1',
    bot_id: 'b1',
    mode: 'paper',
    exchange: 'binance',
    pair: 'BTC/USDT',
    status: 'running',
    stop_reason: null,
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
    latest: { ts: 0, price: 95000, base: 0.01, quote: 100, equity: 1050, grid_profit: 20, fees: 1, round_trips: 4 },
    open_orders: 7,
    fills: 9,
    grid: null,
    clock_ts: 0,
    started_ts: null,
    ...overrides,
  };
}

describe('runFigures', () => {
  it('splits the total P&L into grid profit and price P&L', () => {
    const figures = runFigures(run({}), 1000, 2 * DAY);
    expect(figures).toMatchObject({ totalPnl: 50, gridProfit: 20, pricePnl: 30, roundTrips: 4, uptimeMs: 2 * DAY });
    expect(figures?.aprPct).toBeCloseTo((50 / 1000) * (365 / 2) * 100);
  });

  it('shows no APR before a day of trading', () => {
    expect(runFigures(run({}), 1000, 3600_000)?.aprPct).toBeNull();
  });

  it('stops the clock when the run stops', () => {
    const stopped = run({ status: 'stopped', updated_at: new Date(DAY).toISOString() });
    expect(runFigures(stopped, 1000, 10 * DAY)?.uptimeMs).toBe(DAY);
  });

  it('has nothing to say before the first snapshot', () => {
    expect(runFigures(run({ latest: null }), 1000, DAY)).toBeNull();
  });
});

describe('uptimeMs', () => {
  const HOUR = 3_600_000;
  const replayStart = Date.UTC(2024, 11, 2, 9, 20);

  it('counts a paper replay on its own clock: a day replayed in a minute has traded a day', () => {
    const replay = run({
      status: 'finished',
      created_at: new Date(DAY).toISOString(),
      updated_at: new Date(DAY + 60_000).toISOString(),
      started_ts: replayStart,
      clock_ts: replayStart + DAY,
      latest: { ts: replayStart + DAY, price: 95000, base: 0, quote: 1000, equity: 1000, grid_profit: 0, fees: 0, round_trips: 0 },
    });
    expect(uptimeMs(replay, 2 * DAY)).toBe(DAY);
  });

  it('adds the wall time since a running run saved its clock, unless a newer snapshot came since', () => {
    const saved = new Date(10 * DAY).toISOString();
    const running = run({ updated_at: saved, started_ts: replayStart, clock_ts: replayStart + 2 * HOUR, latest: { ...run({}).latest!, ts: replayStart + HOUR } });
    expect(uptimeMs(running, 10 * DAY + 5 * 60_000)).toBe(2 * HOUR + 5 * 60_000);
    const snappedSince = run({ updated_at: saved, started_ts: replayStart, clock_ts: replayStart + HOUR, latest: { ...run({}).latest!, ts: replayStart + 3 * HOUR } });
    expect(uptimeMs(snappedSince, 10 * DAY + 5 * 60_000)).toBe(3 * HOUR);
  });

  it('falls back to the wall clock before the first snapshot', () => {
    expect(uptimeMs(run({ started_ts: null, latest: null }), 90 * 60_000)).toBe(90 * 60_000);
  });
});
