/** What the price chart draws; plain data so pages need not load the chart library. */
export interface ChartCandle {
  /** Open time, unix seconds (UTC). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface ChartLine {
  price: number;
  kind: 'grid' | 'buy' | 'sell' | 'bound';
  title?: string;
}

export interface ChartMarker {
  /** Unix seconds. */
  time: number;
  side: 'buy' | 'sell';
  price: number;
}

export interface SeriesPoint {
  /** Unix seconds. */
  time: number;
  value: number;
}

export const chartColours = {
  up: '#1fc77e',
  down: '#f6465d',
  grid: 'rgba(240, 185, 11, 0.55)',
  bound: '#f0b90b',
  text: '#aab3c5',
  border: '#273043',
  equity: '#4c8dff',
  benchmark: '#9aa4b8',
} as const;
