import type { ChartCandle, ChartMarker } from './types';

/**
 * Markers placed on the candle they happened in (a marker must sit on a bar of the series),
 * sorted by time as the chart requires; markers outside the candles are left out.
 */
export function snapMarkers(candles: readonly ChartCandle[], markers: readonly ChartMarker[]): ChartMarker[] {
  if (candles.length === 0) return [];
  const times = candles.map((c) => c.time);
  const first = times[0] ?? 0;
  const step = times.length > 1 ? (times[1] ?? first) - first : 60;
  const last = (times[times.length - 1] ?? first) + step;
  const snapped: ChartMarker[] = [];
  for (const marker of markers) {
    if (marker.time < first || marker.time >= last) continue;
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
