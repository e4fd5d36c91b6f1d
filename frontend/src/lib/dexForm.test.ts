import { describe, expect, it } from 'vitest';
import { flagText, pctText, toSellCheck, validateDex, type DexFormValues } from './dexForm';

const good: DexFormValues = {
  rpcUrl: 'https://eth.example.org/rpc',
  router: '0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D',
  token: '0x' + 'ab'.repeat(20),
  amount: '0.1',
  maxSellTaxPct: '10',
};

describe('DEX check form', () => {
  it('accepts what the API accepts and sends the decimals as typed', () => {
    expect(validateDex(good)).toEqual({});
    expect(toSellCheck({ ...good, amount: ' 0.10 ' })).toEqual({
      rpc_url: good.rpcUrl,
      router: good.router,
      token: good.token,
      amount: '0.10',
      max_sell_tax_pct: '10',
    });
  });

  it('refuses what the API would refuse, field by field', () => {
    const errors = validateDex({ rpcUrl: 'file:///etc/passwd', router: '0x1234', token: '', amount: '-1', maxSellTaxPct: '120' });
    expect(Object.keys(errors).sort()).toEqual(['amount', 'maxSellTaxPct', 'router', 'rpcUrl', 'token']);
    expect(validateDex({ ...good, amount: '0' }).amount).toBeDefined();
  });

  it('says flags and percentages in words', () => {
    expect(flagText('high_sell_tax')).toBe('The sell tax is above your threshold');
    expect(pctText('12.0000')).toBe('12.00 %');
    expect(pctText(null)).toBe('—');
  });
});
