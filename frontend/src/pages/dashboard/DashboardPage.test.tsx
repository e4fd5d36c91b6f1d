import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Bot, Run, RunStatus } from '../../api/types';
import { renderWithApi, stubApi } from '../../test/render';
import DashboardPage from './DashboardPage';

const grid = { lower: 90000, upper: 105000, lines: 20, investment: 1000, spacing: 'geometric' as const };

function bot(id: string, name: string, createdAt: string): Bot {
  return { id, name, exchange: 'binance', pair: 'BTC/USDT', grid, created_at: createdAt, updated_at: createdAt };
}

const runs: Run[] = [
  { id: 'r-a', bot_id: 'a', mode: 'paper', exchange: 'binance', pair: 'BTC/USDT', status: 'running', stop_reason: null, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z' },
  { id: 'r-b', bot_id: 'b', mode: 'paper', exchange: 'binance', pair: 'BTC/USDT', status: 'stopped', stop_reason: 'stopped on request', created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-02T00:00:00Z' },
];

function status(run: Run, equity: number, gridProfit: number): RunStatus {
  return { ...run, latest: { ts: 0, price: 95000, base: 0, quote: equity, equity, grid_profit: gridProfit, fees: 0, round_trips: 3 }, open_orders: 5, fills: 6, grid: null, clock_ts: 0, started_ts: null };
}

function answer(path: string) {
  if (path === '/bots') return { body: [bot('a', 'Alpha', '2026-11-01T00:00:00Z'), bot('b', 'Bravo', '2026-11-02T00:00:00Z'), bot('c', 'Charlie', '2026-11-03T00:00:00Z')] };
  if (path.startsWith('/runs?')) return { body: runs };
  if (path === '/runs/r-a') return { body: status(runs[0] as Run, 1100, 40) };
  if (path === '/runs/r-b') return { body: status(runs[1] as Run, 950, 10) };
  if (path === '/kill-switch') return { body: { active: false, guards: [] } };
  return undefined;
}

/** The API of a client allowed to trade live, with its kill switch in `killSwitch`. */
function answerLiveAllowed(path: string, killSwitch: { active: boolean; guards: unknown[] }) {
  if (path === '/kill-switch') return { body: killSwitch };
  if (path === '/onboarding' || path === '/consent') return { body: { live_allowed: true } };
  return answer(path);
}

/** The paper and live start buttons on the card of the bot `name`, once both are shown. */
async function startButtons(name: string): Promise<HTMLElement[]> {
  const card = await screen.findByRole('article', { name });
  const live = await within(card).findByRole('button', { name: `Start live run of ${name}` });
  return [within(card).getByRole('button', { name: `Start paper run of ${name}` }), live];
}

describe('DashboardPage', () => {
  it('shows a card per bot with its P&L split, and sorts and filters them', async () => {
    stubApi((call) => answer(call.path));
    const user = userEvent.setup();
    renderWithApi(<DashboardPage />);
    const alpha = await screen.findByRole('article', { name: 'Alpha' });
    expect(alpha).toHaveTextContent('+$100.00'); // total: equity 1,100 on 1,000 invested
    expect(alpha).toHaveTextContent('+$40.00'); // grid profit
    expect(alpha).toHaveTextContent('+$60.00'); // price P&L
    expect(await screen.findByText('−$50.00')).toBeInTheDocument(); // Bravo's loss, signed
    const names = () => screen.getAllByRole('article').map((card) => card.querySelector('h2')?.textContent);
    expect(names()).toEqual(['Charlie', 'Bravo', 'Alpha']);
    await user.selectOptions(screen.getByLabelText('Sort by'), 'pnl');
    expect(names()).toEqual(['Alpha', 'Bravo', 'Charlie']);
    await user.selectOptions(screen.getByLabelText('State'), 'never');
    expect(names()).toEqual(['Charlie']);
    await user.selectOptions(screen.getByLabelText('State'), 'all');
    await user.type(screen.getByLabelText('Search'), 'brav');
    expect(names()).toEqual(['Bravo']);
  });

  it('offers no start while the kill switch is on, and says why', async () => {
    const guard = { id: 1, guard: 'kill_switch', reason: 'kill switch from the run page', active: true, run_id: null, reset_at: null, reset_by: null };
    stubApi((call) => answerLiveAllowed(call.path, { active: true, guards: [guard] }));
    renderWithApi(<DashboardPage />);
    expect(await screen.findByText('Your kill switch is on.')).toBeInTheDocument();
    for (const start of await startButtons('Charlie')) {
      expect(start).toBeDisabled();
      expect(start).toHaveAccessibleDescription('Your kill switch is on. Every bot is stopped and none can start until support resets it.');
    }
  });

  it('offers to start a bot while the kill switch is off', async () => {
    stubApi((call) => answerLiveAllowed(call.path, { active: false, guards: [] }));
    renderWithApi(<DashboardPage />);
    for (const start of await startButtons('Charlie')) expect(start).toBeEnabled();
    expect(screen.queryByText('Your kill switch is on.')).not.toBeInTheDocument();
  });

  it('says what to do when there is no bot', async () => {
    stubApi((call) => (call.path === '/bots' ? { body: [] } : answer(call.path)));
    renderWithApi(<DashboardPage />);
    expect(await screen.findByRole('heading', { name: 'No bots yet' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Create your first paper bot' })).toHaveAttribute('href', '/bots/new');
  });

  it('says what went wrong and offers to try again', async () => {
    stubApi((call) =>
      call.path === '/bots' ? { status: 503, body: { type: '/problems/not-configured', title: 'Service not configured', status: 503 } } : answer(call.path),
    );
    renderWithApi(<DashboardPage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Your bots could not be loaded: Service not configured');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
