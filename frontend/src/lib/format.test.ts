import { describe, expect, it } from 'vitest';
import { formatDuration, formatQty, formatSignedPct, formatSignedUsd, tone } from './format';

describe('money figures', () => {
  it('signs gains and losses and leaves zero unsigned', () => {
    expect(formatSignedUsd(12.3)).toBe('+$12.30');
    expect(formatSignedUsd(-4)).toBe('−$4.00');
    expect(formatSignedUsd(0.001)).toBe('$0.00');
    expect(formatSignedPct(-1.234)).toBe('−1.23 %');
  });

  it('colours by the rounded value', () => {
    expect([tone(1), tone(-1), tone(0.004)]).toEqual(['gain', 'loss', 'flat']);
  });

  it('says durations in days, hours and minutes', () => {
    expect(formatDuration(90_000)).toBe('1 min');
    expect(formatDuration(3 * 3600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatDuration(50 * 3600_000)).toBe('2 d 2 h');
  });

  it('shows dust of a sold-out balance as 0, never -0', () => {
    expect(formatQty(-1e-12)).toBe('0');
    expect(formatQty(-0)).toBe('0');
    expect(formatQty(-0.00012)).toBe('-0.00012');
    expect(formatQty(0.014)).toBe('0.014');
  });
});
