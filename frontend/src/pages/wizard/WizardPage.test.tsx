import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderWithApi, stubApi } from '../../test/render';
import WizardPage from './WizardPage';

describe('WizardPage', () => {
  it('offers no paper start while the kill switch is on, and says why', async () => {
    stubApi((call) => (call.path === '/kill-switch' ? { body: { active: true, guards: [] } } : undefined));
    renderWithApi(<WizardPage />);
    expect(await screen.findByText('Your kill switch is on.')).toBeInTheDocument();
    const start = screen.getByRole('button', { name: 'Start paper bot' });
    expect(start).toBeDisabled();
    expect(start).toHaveAccessibleDescription('Your kill switch is on. Every bot is stopped and none can start until support resets it.');
    expect(screen.getByRole('button', { name: 'Backtest these settings' })).toBeEnabled();
  });
});
