/** Money, percentages and durations as the portal shows them: units always, signs when a
 * figure is a gain or a loss. */

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatUsd(value: number): string {
  return usd.format(value);
}

/** `+$12.30` / `−$4.00` / `$0.00`: a P&L figure (a real minus sign, readable by screen readers). */
export function formatSignedUsd(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return usd.format(0);
  return `${rounded > 0 ? '+' : '−'}${usd.format(Math.abs(rounded))}`;
}

export function formatPct(value: number, digits = 2): string {
  return `${value.toFixed(digits)} %`;
}

export function formatSignedPct(value: number, digits = 2): string {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)} %`;
  return `${value > 0 ? '+' : '−'}${text} %`;
}

/** A price with the precision its size needs (BTC at 2 decimals, small coins at more). */
export function formatPrice(value: number): string {
  const digits = value >= 1000 ? 2 : value >= 1 ? 4 : 8;
  return value.toLocaleString('en-US', { minimumFractionDigits: Math.min(2, digits), maximumFractionDigits: digits });
}

/** A quantity to 8 decimals; dust below that (a sold-out balance's -1e-12) is 0, never "-0". */
export function formatQty(value: number): string {
  const shown = value.toLocaleString('en-US', { maximumFractionDigits: 8 });
  return /^-0(\.0*)?$/.test(shown) ? '0' : shown;
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return `${minutes} min`;
}

export function formatDateTime(value: string | number): string {
  return new Date(value).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
}

/** `gain`, `loss` or `flat`: the colour class of a signed figure. */
export function tone(value: number): 'gain' | 'loss' | 'flat' {
  const rounded = Math.round(value * 100) / 100;
  return rounded > 0 ? 'gain' : rounded < 0 ? 'loss' : 'flat';
}

/** `1 order`, `3 orders`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
