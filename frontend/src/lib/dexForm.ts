import type { components } from '../api/schema';

type SellCheckRequest = components['schemas']['SellCheckRequest'];

export interface DexFormValues {
  rpcUrl: string;
  router: string;
  token: string;
  amount: string;
  maxSellTaxPct: string;
}

export type DexFormErrors = Partial<Record<keyof DexFormValues, string>>;

/** The API's names of the form's fields (a validation problem's `loc` ends with one). */
export const DEX_API_FIELDS: Record<keyof DexFormValues, string> = {
  rpcUrl: 'rpc_url',
  router: 'router',
  token: 'token',
  amount: 'amount',
  maxSellTaxPct: 'max_sell_tax_pct',
};

// The API's limits (dex/schemas.py): the form refuses what the API would, before a request.
const RPC_URL = /^https?:\/\/[!-~]+$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NUMBER = /^\d+(\.\d+)?$/;

export function validateDex(values: DexFormValues): DexFormErrors {
  const errors: DexFormErrors = {};
  const url = values.rpcUrl.trim();
  if (!RPC_URL.test(url) || url.length > 2048) errors.rpcUrl = 'An http(s) URL of a public node of the chain.';
  if (!ADDRESS.test(values.router.trim())) errors.router = 'The router address: 0x and 40 hex digits.';
  if (!ADDRESS.test(values.token.trim())) errors.token = 'The token address: 0x and 40 hex digits.';
  const amount = values.amount.trim();
  if (!NUMBER.test(amount) || !(Number(amount) > 0) || Number(amount) > 1e12) errors.amount = 'A positive amount of the quote (e.g. 0.1 WETH).';
  const tax = values.maxSellTaxPct.trim();
  if (!NUMBER.test(tax) || Number(tax) > 100) errors.maxSellTaxPct = 'A percentage from 0 to 100.';
  return errors;
}

/** The request body; decimals as typed (strings), so nothing is rounded on the way. */
export function toSellCheck(values: DexFormValues): SellCheckRequest {
  return {
    rpc_url: values.rpcUrl.trim(),
    router: values.router.trim(),
    token: values.token.trim(),
    amount: values.amount.trim(),
    max_sell_tax_pct: values.maxSellTaxPct.trim(),
  };
}

const FLAG_TEXT: Record<components['schemas']['Flag'], string> = {
  owner_can_pause: "The owner can pause the token's transfers",
  owner_can_blacklist: 'The owner can blacklist holders',
  paused: 'Transfers are paused',
  max_tx_limit_hit: 'The amount hits a max-transaction limit',
  max_wallet_limit_hit: 'The amount hits a max-wallet limit',
  transfer_blocked: 'Transfers between wallets are blocked',
  high_sell_tax: 'The sell tax is above your threshold',
};

export function flagText(flag: components['schemas']['Flag']): string {
  return FLAG_TEXT[flag] ?? flag;
}

/** A percentage the API sends as a decimal string ("5.0000"), or "—" when it could not measure. */
export function pctText(value: string | null): string {
  if (value === null) return '—';
  const n = Number(value);
  return Number.isFinite(n) ? `${n.toFixed(2)} %` : '—';
}
