import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApi, stubApi } from '../../test/render';
import DexPage from './DexPage';

const ROUTER = '0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D';
const TOKEN = '0x' + 'ab'.repeat(20);
const pro = { available: true, plan: 'pro', reason: null, included_in: 'Pro and above', checks_per_window: 20, window_s: 60 };
const starter = {
  available: false,
  plan: 'starter',
  reason: 'DEX sell checks are not in the starter plan (Pro and above)',
  included_in: 'Pro and above',
  checks_per_window: 20,
  window_s: 60,
};
const verdict = {
  sellable: 'yes',
  why: 'bought and sold back',
  router: ROUTER,
  token: TOKEN,
  quote: '0x' + 'cd'.repeat(20),
  pair: '0x' + 'ef'.repeat(20),
  amount_in: '0.1',
  buy_tax_pct: '5.0000',
  sell_tax_pct: '12.0000',
  transfer_tax_pct: '0.0000',
  round_trip_loss_pct: '17.1000',
  buy_gas: 123456,
  sell_gas: 98765,
  buy_revert: null,
  sell_revert: null,
  transfer_revert: null,
  reserve_quote: '10',
  reserve_token: '1000',
  liquidity_quote: '20',
  flags: ['high_sell_tax'],
  max_sell_tax_pct: '10',
  elapsed_ms: 42,
};

async function fill(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('RPC URL'), 'https://eth.example.org/rpc');
  await user.type(screen.getByLabelText('Router'), ROUTER);
  await user.type(screen.getByLabelText('Token'), TOKEN);
}

describe('DexPage', () => {
  it('sends the check as typed and shows the verdict, taxes, gas and flags', async () => {
    const calls = stubApi((call) => {
      if (call.path === '/dex/access') return { body: pro };
      if (call.path === '/dex/check-sell') return { body: verdict };
      return undefined;
    });
    const user = userEvent.setup();
    renderWithApi(<DexPage />);
    await screen.findByRole('heading', { name: 'DEX sell check' });
    await fill(user);
    await user.click(screen.getByRole('button', { name: 'Check sell' }));
    const result = await screen.findByRole('status', { name: 'Sellable' });
    expect(result).toHaveTextContent('Sell tax12.00 %');
    expect(result).toHaveTextContent('Buy tax5.00 %');
    expect(result).toHaveTextContent('Gas to buy123,456');
    expect(result).toHaveTextContent('The sell tax is above your threshold');
    expect(calls.find((c) => c.path === '/dex/check-sell')?.body).toEqual({
      rpc_url: 'https://eth.example.org/rpc',
      router: ROUTER,
      token: TOKEN,
      amount: '0.1',
      max_sell_tax_pct: '10',
    });
    expect(screen.getByText('Up to 20 checks per 60 s.')).toBeInTheDocument();
  });

  it('shows a plan without DEX checks why it is locked and sends nothing', async () => {
    const calls = stubApi((call) => (call.path === '/dex/access' ? { body: starter } : undefined));
    renderWithApi(<DexPage />);
    const locked = await screen.findByRole('status', { name: 'Locked on the starter plan' });
    expect(locked).toHaveTextContent('DEX sell checks are not in the starter plan (Pro and above)');
    expect(screen.getByRole('link', { name: 'See the plans' })).toHaveAttribute('href', '/start');
    expect(screen.getByRole('button', { name: 'Check sell' })).toBeDisabled();
    expect(calls.map((c) => c.path)).toEqual(['/dex/access']);
  });

  it('refuses bad input before asking, and puts the API refusal beside its field', async () => {
    const calls = stubApi((call) => {
      if (call.path === '/dex/access') return { body: pro };
      if (call.path === '/dex/check-sell')
        return {
          status: 422,
          body: { type: '/problems/bad-input', title: 'Invalid input', status: 422, detail: 'token: no code at this address' },
        };
      return undefined;
    });
    const user = userEvent.setup();
    renderWithApi(<DexPage />);
    await screen.findByRole('heading', { name: 'DEX sell check' });
    await user.click(screen.getByRole('button', { name: 'Check sell' }));
    expect(screen.getByText('The token address: 0x and 40 hex digits.')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/dex/check-sell')).toHaveLength(0);
    await fill(user);
    await user.click(screen.getByRole('button', { name: 'Check sell' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Not checked: Invalid input');
    expect(alert).toHaveTextContent('token: no code at this address');
  });
});
