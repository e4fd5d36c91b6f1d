import { describe, expect, it } from 'vitest';
import { paperCountdown } from './paperCountdown';

const DAY = 86_400_000;

describe('paperCountdown', () => {
  it('counts the paper days done and the time left', () => {
    const liveFrom = new Date(7 * DAY).toISOString();
    expect(paperCountdown(liveFrom, 2.5 * DAY)).toEqual({ daysDone: 2, daysRequired: 7, remainingMs: 4.5 * DAY });
    expect(paperCountdown(liveFrom, 8 * DAY)).toEqual({ daysDone: 7, daysRequired: 7, remainingMs: 0 });
  });

  it('has not started before the first paper run', () => {
    expect(paperCountdown(null, 0)).toBeNull();
  });
});
