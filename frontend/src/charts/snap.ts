import type { ChartCandle, ChartMarker } from './types';

interface Span {
  times: number[];
  first: number;
  /** The end of the last candle (its open plus one candle's length). */
  end: number;
}

function spanOf(candles: readonly ChartCandle[]): Span | null {
  if (candles.length === 0) return null;
  const times = candles.map((c) => c.time);
  const first = times[0] ?? 0;
  const step = times.length > 1 ? (times[1] ?? first) - first : 60;
  return { times, first, end: (times[times.length - 1] ?? first) + step };
}

/**
 * Markers placed on the candle they happened in (a marker must sit on a bar of the series),
 * sorted by time as the chart requires; markers outside the candles are left out.
 */
export function snapMarkers(candles: readonly ChartCandle[], markers: readonly ChartMarker[]): ChartMarker[] {
  const span = spanOf(candles);
  if (!span) return [];
  const { times, first, end } = span;
  const snapped: ChartMarker[] = [];
  for (const marker of markers) {
    if (marker.time < first || marker.time >= end) continue;
    let lo = 0;
    let hi = times.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((times[mid] ?? 0) <= marker.time) lo = mid;
      else hi = mid - 1;
    }
    snapped.push({ ...marker, time: times[lo] ?? first });
  }
  return snapped.sort((a, b) => a.time - b.time);
}

export interface Unplaced {
  /** Markers after the last candle: the chart's candles do not reach them yet. */
  after: number;
  /** When the candles end (unix seconds); null without candles. */
  end: number | null;
}

/** The markers ``snapMarkers`` leaves out for being newer than every candle: a page says so
 * rather than drawing a run's latest fills nowhere. */
export function unplacedMarkers(candles: readonly ChartCandle[], markers: readonly ChartMarker[]): Unplaced {
  const span = spanOf(candles);
  if (!span) return { after: 0, end: null };
  return { after: markers.filter((m) => m.time >= span.end).length, end: span.end };
}
