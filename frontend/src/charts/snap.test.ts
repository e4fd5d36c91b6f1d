import { describe, expect, it } from 'vitest';
import { snapMarkers, unplacedMarkers } from './snap';

const candles = [0, 60, 120].map((time) => ({ time, open: 1, high: 1, low: 1, close: 1 }));

describe('snapMarkers', () => {
  it('puts each fill on the candle it happened in, in time order', () => {
    const markers = snapMarkers(candles, [
      { time: 130, side: 'sell', price: 2 },
      { time: 59, side: 'buy', price: 1 },
    ]);
    expect(markers.map((m) => [m.time, m.side])).toEqual([
      [0, 'buy'],
      [120, 'sell'],
    ]);
  });

  it('leaves out fills outside the candles', () => {
    expect(snapMarkers(candles, [{ time: -1, side: 'buy', price: 1 }, { time: 180, side: 'buy', price: 1 }])).toEqual([]);
  });
});

describe('unplacedMarkers', () => {
  it('counts the fills newer than the last candle and says when the candles end', () => {
    const unplaced = unplacedMarkers(candles, [
      { time: 100, side: 'buy', price: 1 },
      { time: 180, side: 'sell', price: 2 },
      { time: 900, side: 'buy', price: 1 },
    ]);
    expect(unplaced).toEqual({ after: 2, end: 180 });
  });

  it('has nothing to say without candles', () => {
    expect(unplacedMarkers([], [{ time: 5, side: 'buy', price: 1 }])).toEqual({ after: 0, end: null });
  });
});
