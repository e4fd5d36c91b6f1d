import type { ChartMarker } from '../charts/types';

/** Fills of a backtest export (CSV with `ts_ms`, `side` and `price` columns) as chart markers. */
export function markersFromFillsCsv(csv: string): ChartMarker[] {
  const [head, ...rows] = csv.trim().split(/\r?\n/);
  if (!head) return [];
  const columns = head.split(',');
  const ts = columns.indexOf('ts_ms');
  const side = columns.indexOf('side');
  const price = columns.indexOf('price');
  if (ts < 0 || side < 0 || price < 0) return [];
  return rows.flatMap((row) => {
    const cells = row.split(',');
    const s = cells[side];
    if (s !== 'buy' && s !== 'sell') return [];
    return [{ time: Math.floor(Number(cells[ts]) / 1000), side: s, price: Number(cells[price]) }];
  });
}
