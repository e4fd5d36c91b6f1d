import { renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { ApiProvider } from '../../api/ApiContext';
import { createApiClient } from '../../api/client';
import type { Fill, RunStatus } from '../../api/types';
import { stubApi } from '../../test/render';
import { useRunLive } from './useRunLive';

const run: RunStatus = {
  id: 'r1',
  bot_id: 'b1',
  mode: 'paper',
  exchange: 'binance',
  pair: 'BTC/USDT',
  status: 'running',
  stop_reason: null,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
  latest: null,
  open_orders: 1,
  fills: 0, grid: null, clock_ts: 0, started_ts: null,
};

function fill(id: number): Fill {
  return { trade_id: `t${id}`, client_order_id: `o${id}`, ts: id * 60_000, side: 'buy', line: 1, price: 95_000, qty: 0.01, fee: 0.95, fee_currency: 'USDT' };
}

function wrapper({ children }: { children: ReactNode }) {
  return <ApiProvider client={createApiClient('http://api.test', () => 'token')}>{children}</ApiProvider>;
}

describe('useRunLive', () => {
  it('asks for what is new since its cursor and adds the new fills', async () => {
    const answers = [
      { cursor: '5', more: false, run, fills: [fill(1)], orders: [], guards: [] },
      { cursor: '7', more: true, run: { ...run, fills: 3 }, fills: [fill(2)], orders: [], guards: [] },
      { cursor: '8', more: false, run: { ...run, fills: 3 }, fills: [fill(3)], orders: [], guards: [] },
    ];
    const nothingNew = { cursor: '8', more: false, run: { ...run, fills: 3 }, fills: [], orders: [], guards: [] };
    const calls = stubApi((call) => {
      if (call.path.startsWith('/runs/r1/updates')) return { body: answers.shift() ?? nothingNew };
      if (call.path.startsWith('/runs/r1/equity')) return { body: [] };
      return undefined;
    });
    const { result } = renderHook(() => useRunLive('r1'), { wrapper });
    await waitFor(() => expect(result.current.fills.map((f) => f.trade_id)).toEqual(['t1', 't2', 't3']), { timeout: 3000 });
    const updates = calls.filter((c) => c.path.includes('/updates')).map((c) => c.path);
    // The first poll has no cursor; `more` makes the next one at once, without waiting a second.
    expect(updates.slice(0, 3)).toEqual(['/runs/r1/updates', '/runs/r1/updates?since=5', '/runs/r1/updates?since=7']);
    expect(result.current.run?.fills).toBe(3);
  });
});
