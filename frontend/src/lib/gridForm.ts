import type { BotCreate, Spacing } from '../api/types';

/** The wizard's fields as typed (strings), before they are a `BotCreate`. */
export interface GridFormValues {
  name: string;
  pair: string;
  lower: string;
  upper: string;
  lines: string;
  spacing: Spacing;
  investment: string;
}

export type GridFormErrors = Partial<Record<keyof GridFormValues, string>>;

// The API's limits (bots/schemas.py: Price, Money, lines, the pair and name patterns): the form
// refuses what the API would, with the same bounds, before a request is sent.
const PRICE_MIN = 1e-8;
const PRICE_MAX = 1e9;
const MONEY_MIN = 0.01;
const MONEY_MAX = 1e10;
const LINES_MIN = 2;
const LINES_MAX = 500;
const PAIR = /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/;
/** Control characters, which the API refuses in names and keys. */
// eslint-disable-next-line no-control-regex -- matching them is the point
export const CONTROL_CHARACTERS = /[\x00-\x1f\x7f-\x9f]/;

function number(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

export interface RangeValues {
  lower: string;
  upper: string;
  lines: string;
}

/** The range and lines of a grid (a new bot's, or a running grid's edit). */
export function validateRange(values: RangeValues): Partial<Record<keyof RangeValues, string>> {
  const errors: Partial<Record<keyof RangeValues, string>> = {};
  const lower = number(values.lower);
  const upper = number(values.upper);
  if (lower === null || lower < PRICE_MIN || lower > PRICE_MAX) errors.lower = 'Enter a price between 0.00000001 and 1,000,000,000.';
  if (upper === null || upper < PRICE_MIN || upper > PRICE_MAX) errors.upper = 'Enter a price between 0.00000001 and 1,000,000,000.';
  else if (lower !== null && upper <= lower) errors.upper = 'The upper price must be above the lower price.';
  const lines = number(values.lines);
  if (lines === null || !Number.isInteger(lines) || lines < LINES_MIN || lines > LINES_MAX) errors.lines = 'Use a whole number of lines from 2 to 500.';
  return errors;
}

export function validateGrid(values: GridFormValues): GridFormErrors {
  const errors: GridFormErrors = validateRange(values);
  const name = values.name.trim();
  if (name.length < 1 || name.length > 100) errors.name = 'Give the bot a name (1 to 100 characters).';
  else if (CONTROL_CHARACTERS.test(name)) errors.name = 'Use letters, digits and punctuation only.';
  if (!PAIR.test(values.pair)) errors.pair = 'A pair looks like BTC/USDT.';
  const investment = number(values.investment);
  if (investment === null || investment < MONEY_MIN || investment > MONEY_MAX) errors.investment = 'Invest at least 0.01 USDT.';
  return errors;
}

/** The API body of valid values (call `validateGrid` first). */
export function toBotCreate(values: GridFormValues): BotCreate {
  return {
    name: values.name.trim(),
    pair: values.pair,
    grid: {
      lower: Number(values.lower),
      upper: Number(values.upper),
      lines: Number(values.lines),
      investment: Number(values.investment),
      spacing: values.spacing,
    },
  };
}
