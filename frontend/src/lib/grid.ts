import type { Spacing } from '../api/types';

/**
 * The grid's line prices before the exchange's rounding, so the chart follows the keyboard at
 * once; the API's preview (rounded to the pair's tick) replaces them when it arrives.
 */
export function gridLinePrices(lower: number, upper: number, lines: number, spacing: Spacing): number[] {
  if (!(lower > 0 && upper > lower && Number.isInteger(lines) && lines >= 2 && lines <= 500)) return [];
  const steps = lines - 1;
  return Array.from({ length: lines }, (_, i) =>
    spacing === 'arithmetic' ? lower + ((upper - lower) * i) / steps : lower * (upper / lower) ** (i / steps),
  );
}
