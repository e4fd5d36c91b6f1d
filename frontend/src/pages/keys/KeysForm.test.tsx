import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApi, stubApi } from '../../test/render';
import { KeysForm } from './KeysForm';

const stored = {
  credentials: {
    id: 'c1',
    client_id: 'acme',
    exchange: 'binance',
    label: 'main',
    key_id: '****WXYZ',
    key_version: 1,
    status: 'active',
    permissions: { can_trade: true, can_withdraw: false },
    created_at: '2026-12-01T00:00:00Z',
    rotated_at: null,
  },
  replaced: false,
};

async function paste(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('API key'), 'KEY-ABCDWXYZ');
  await user.type(screen.getByLabelText('Secret key'), 's3cret');
  await user.click(screen.getByRole('button', { name: 'Check and save keys' }));
}

describe('KeysForm', () => {
  it('sends the key once with the bearer token, then clears it and shows it masked', async () => {
    const calls = stubApi((call) => (call.method === 'PUT' && call.path === '/credentials' ? { body: stored } : undefined));
    const user = userEvent.setup();
    renderWithApi(<KeysForm />);
    await paste(user);
    expect(await screen.findByText(/Key \*\*\*\*WXYZ stored/)).toBeInTheDocument();
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.body).toEqual({ exchange: 'binance', api_key: 'KEY-ABCDWXYZ', api_secret: 's3cret', label: 'main' });
    expect(put?.authorization).toBe('Bearer test-token');
    expect(screen.getByLabelText('API key')).toHaveValue('');
    expect(screen.getByLabelText('Secret key')).toHaveValue('');
  });

  it('shows why a withdraw-enabled key is refused and what to do', async () => {
    stubApi(() => ({
      status: 422,
      body: {
        type: '/problems/key-permissions',
        title: 'Exchange key refused',
        status: 422,
        detail: 'the key can withdraw: create a trade-only key',
      },
    }));
    const user = userEvent.setup();
    renderWithApi(<KeysForm />);
    await paste(user);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Key not stored: Exchange key refused');
    expect(alert).toHaveTextContent('the key can withdraw');
    expect(alert).toHaveTextContent('withdrawals disabled');
  });

  it('asks for both keys before sending anything', async () => {
    const calls = stubApi(() => undefined);
    const user = userEvent.setup();
    renderWithApi(<KeysForm />);
    await user.click(screen.getByRole('button', { name: 'Check and save keys' }));
    expect(screen.getByText('Paste the API key.')).toBeInTheDocument();
    expect(screen.getByLabelText('API key')).toHaveAttribute('aria-invalid', 'true');
    await waitFor(() => expect(calls).toHaveLength(0));
  });
});
