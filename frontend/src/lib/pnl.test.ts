import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../api/types';
import { runFigures } from './pnl';

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
