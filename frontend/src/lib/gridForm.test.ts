import { describe, expect, it } from 'vitest';
import { toBotCreate, validateGrid, type GridFormValues } from './gridForm';

const valid: GridFormValues = {
  name: 'BTC grid',
  pair: 'BTC/USDT',
  lower: '90000',
  upper: '105000',
  lines: '20',
  spacing: 'geometric',
  investment: '1000',
};

describe('validateGrid mirrors the API limits', () => {
  it('accepts a grid the API accepts', () => {
    expect(validateGrid(valid)).toEqual({});
    expect(toBotCreate(valid)).toEqual({
      name: 'BTC grid',
      pair: 'BTC/USDT',
      grid: { lower: 90000, upper: 105000, lines: 20, investment: 1000, spacing: 'geometric' },
    });
  });

  it.each([
    ['lines', '1', 'lines'],
    ['lines', '501', 'lines'],
    ['lines', '2.5', 'lines'],
    ['investment', '0.001', 'investment'],
    ['lower', '0', 'lower'],
    ['upper', '2000000000', 'upper'],
    ['pair', 'btc-usdt', 'pair'],
    ['name', '   ', 'name'],
    ['name', 'tab\there', 'name'],
  ] as const)('refuses %s = %j', (field, value, errorField) => {
    expect(validateGrid({ ...valid, [field]: value })).toHaveProperty(errorField);
  });

  it('wants the upper price above the lower one', () => {
    expect(validateGrid({ ...valid, lower: '100', upper: '100' }).upper).toMatch(/above the lower/);
  });
});
