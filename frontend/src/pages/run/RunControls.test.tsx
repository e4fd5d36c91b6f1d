import { screen, waitFor, within } from '@testing-library/react';
import { useQuery } from '@tanstack/react-query';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../api/types';
import { renderWithApi, stubApi } from '../../test/render';
import { RunControls } from './RunControls';

const run: RunStatus = {
  id: 'paper-abc',
  bot_id: 'b1',
  mode: 'paper',
  exchange: 'binance',
  pair: 'BTC/USDT',
  status: 'running',
  stop_reason: null,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
  latest: null,
  open_orders: 7,
  fills: 3, grid: null, clock_ts: 0, started_ts: null,
};

describe('RunControls', () => {
  it('says what happens to the open orders before stopping, then stops', async () => {
    const calls = stubApi((call) => (call.path === '/runs/paper-abc/stop' ? { status: 202, body: { ...run, status: 'running' } } : undefined));
    const user = userEvent.setup();
    renderWithApi(<RunControls run={run} />);
    await user.click(screen.getByRole('button', { name: 'Stop bot' }));
    const dialog = screen.getByRole('dialog', { name: 'Stop this bot?' });
    expect(dialog).toHaveTextContent('7 open orders stay in the paper account');
    expect(calls).toHaveLength(0);
    await user.click(within(dialog).getByRole('button', { name: 'Stop bot' }));
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /runs/paper-abc/stop']);
  });

  it('warns that the kill switch stops every bot and cancels their open orders, selling nothing', async () => {
    const calls = stubApi(() => undefined);
    const user = userEvent.setup();
    renderWithApi(<RunControls run={run} />);
    await user.click(screen.getByRole('button', { name: 'Kill switch' }));
    const dialog = screen.getByRole('dialog', { name: 'Trip the kill switch?' });
    expect(dialog).toHaveTextContent('Every running bot of your account stops');
    expect(dialog).toHaveTextContent("Each bot cancels its open orders: this one's 7 orders in the paper account");
    expect(dialog).toHaveTextContent('nothing is sold');
    expect(dialog).not.toHaveTextContent('not cancelled');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });

  it('closes the kill switch confirmation once tripped, without waiting for the page to be read again', async () => {
    const calls = stubApi((call) => (call.path === '/kill-switch' ? { status: 200, body: { tripped: true } } : undefined));
    // A query of the page that takes long to answer again (the chart's candles, say).
    function SlowToRefresh() {
      const reads = useQuery({
        queryKey: ['slow'],
        queryFn: (): Promise<number> => (calls.length ? new Promise<number>(() => {}) : Promise.resolve(1)),
      });
      return <span>{reads.data}</span>;
    }
    const user = userEvent.setup();
    renderWithApi(
      <>
        <SlowToRefresh />
        <RunControls run={run} />
      </>,
    );
    await user.click(screen.getByRole('button', { name: 'Kill switch' }));
    const dialog = screen.getByRole('dialog', { name: 'Trip the kill switch?' });
    await user.click(within(dialog).getByRole('button', { name: 'Stop every bot' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /kill-switch']);
  });
});
