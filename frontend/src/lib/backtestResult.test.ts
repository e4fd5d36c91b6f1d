import { describe, expect, it } from 'vitest';
import { buyAndHoldSeries, equitySeries, figure } from './backtestResult';
import { markersFromFillsCsv } from './fillsCsv';

const result = {
  investment: 1000,
  equity: 1030,
  start_ts: 0,
  end_ts: 2 * 86_400_000,
  first_open: 100,
  buy_and_hold_pnl: -50,
  daily_pnl: [
    { day_ms: 0, pnl: 10, equity: 1010 },
    { day_ms: 86_400_000, pnl: 20, equity: 1030 },
  ],
};

describe('backtest result readers', () => {
  it('reads numbers and refuses anything else', () => {
    expect(figure(result, 'equity')).toBe(1030);
    expect(figure({ equity: 'x' }, 'equity')).toBeNull();
  });

  it('draws equity from the investment through each day to the end', () => {
    expect(equitySeries(result)).toEqual([
      { time: 0, value: 1000 },
      { time: 86_400, value: 1010 },
      { time: 172_800, value: 1030 },
    ]);
  });

  it('draws buy & hold from the candles when it has them, else from its two ends', () => {
    const candles = [
      { time: 0, open: 100, high: 100, low: 100, close: 100 },
      { time: 60, open: 100, high: 100, low: 90, close: 95 },
    ];
    expect(buyAndHoldSeries(result, candles).map((p) => p.value)).toEqual([1000, 950]);
    expect(buyAndHoldSeries(result, [])).toEqual([
      { time: 0, value: 1000 },
      { time: 172_800, value: 950 },
    ]);
  });

  it('reads fills of the CSV export as markers', () => {
    const csv = 'ts,ts_ms,side,line,kind,price,qty,fee,quote\n2024-12-02T09:20:00Z,1733131200000,buy,3,limit,95000,0.001,0,95\n';
    expect(markersFromFillsCsv(csv)).toEqual([{ time: 1733131200, side: 'buy', price: 95000 }]);
  });
});
