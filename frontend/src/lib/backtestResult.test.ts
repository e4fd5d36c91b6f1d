import { describe, expect, it } from 'vitest';
import type { Backtest } from '../api/types';
import { buyAndHoldSeries, equitySeries, figure, fillMarkers, fillsShown } from './backtestResult';

const job: Backtest = {
  id: 'b1',
  bot_id: 'bot1',
  status: 'done',
  progress: 1,
  candles: 'uploaded',
  error: null,
  created_at: '2024-12-02T09:00:00Z',
  finished_at: '2024-12-02T09:00:01Z',
  result: { equity: 1030, investment: 1000 },
  equity_curve: [
    { ts: 1_733_131_200_000, equity: 1000, buy_and_hold: 1000 },
    { ts: 1_733_131_260_000, equity: 990, buy_and_hold: 950 },
    { ts: 1_733_131_260_500, equity: 991, buy_and_hold: 951 }, // same second: left out
    { ts: 1_733_131_320_000, equity: 1030, buy_and_hold: 1010 },
  ],
  fills: [
    { ts: 1_733_131_200_000, side: 'buy', line: -1, price: 95_000, qty: 0.001, fee: 0.095 },
    { ts: 1_733_131_260_000, side: 'sell', line: 4, price: 95_500, qty: 0.001, fee: 0.0955 },
  ],
  fills_total: 2,
};

describe('backtest result readers', () => {
  it('reads numbers and refuses anything else', () => {
    expect(figure(job.result ?? {}, 'equity')).toBe(1030);
    expect(figure({ equity: 'x' }, 'equity')).toBeNull();
  });

  it('draws the grid equity and buy & hold at the same closes, in seconds, strictly increasing', () => {
    expect(equitySeries(job)).toEqual([
      { time: 1_733_131_200, value: 1000 },
      { time: 1_733_131_260, value: 990 },
      { time: 1_733_131_320, value: 1030 },
    ]);
    expect(buyAndHoldSeries(job).map((p) => p.value)).toEqual([1000, 950, 1010]);
    expect(equitySeries({ ...job, equity_curve: null })).toEqual([]);
  });

  it('marks every fill the API sent and says when they are only the newest', () => {
    expect(fillMarkers(job)).toEqual([
      { time: 1_733_131_200, side: 'buy', price: 95_000 },
      { time: 1_733_131_260, side: 'sell', price: 95_500 },
    ]);
    expect(fillMarkers(undefined)).toEqual([]);
    expect(fillsShown(job)).toBeNull();
    expect(fillsShown({ ...job, fills_total: 1234 })).toBe('the newest 2 of 1,234 fills');
  });
});
