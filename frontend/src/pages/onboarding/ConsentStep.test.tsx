import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderWithApi, stubApi } from '../../test/render';
import { ConsentStep } from './ConsentStep';

const document = {
  document: 'risk', version: 2, key: 'risk-v2', title: 'Risk disclosure', text: 'Grid bots can lose money.', sha256: 'x', accepted_at: null,
};

describe('ConsentStep', () => {
  it('shows the text, and accepts the missing versions only once the box is ticked', async () => {
    let accepted = false;
    const calls = stubApi((call) => {
      if (call.method === 'GET' && call.path === '/consent') {
        const doc = { ...document, accepted_at: accepted ? '2026-12-03T09:00:00Z' : null };
        return { body: { documents: [doc], live_allowed: accepted, missing: accepted ? [] : ['risk-v2'], history: [] } };
      }
      if (call.method === 'POST' && call.path === '/consent') {
        accepted = true;
        return { body: { documents: [], live_allowed: true, missing: [], history: [] } };
      }
      return undefined;
    });
    const user = userEvent.setup();
    renderWithApi(<ConsentStep />);
    expect(await screen.findByRole('region', { name: 'Risk disclosure, full text' })).toHaveTextContent('Grid bots can lose money.');
    expect(screen.getByRole('button', { name: 'Accept' })).toBeDisabled();
    await user.click(screen.getByRole('checkbox', { name: /accept them for live trading/ }));
    await user.click(screen.getByRole('button', { name: 'Accept' }));
    expect(await screen.findByText('Everything is accepted.')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ versions: ['risk-v2'] });
  });
});
