import { act, renderHook, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { ApiProvider } from '../../api/ApiContext';
import { createApiClient } from '../../api/client';
import type { BotCreate } from '../../api/types';
import { stubApi } from '../../test/render';
import { usePlanPreview } from './usePlanPreview';

function wrapper({ children }: { children: ReactNode }) {
  return (
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <ApiProvider client={createApiClient('http://api.test', () => 'token')}>{children}</ApiProvider>
    </QueryClientProvider>
  );
}

const body = (lines: number): BotCreate => ({
  name: 'g',
  pair: 'BTC/USDT',
  grid: { lower: 90000, upper: 105000, lines, investment: 1000, spacing: 'geometric' },
});

describe('usePlanPreview', () => {
  it('asks at once for the first settings, then once typing pauses, with the chart price', async () => {
    const calls = stubApi((call) =>
      call.path === '/bots/preview' ? { body: { lines: (call.body as BotCreate).grid.lines, line_prices: [] } } : undefined,
    );
    const { result, rerender } = renderHook(({ lines }) => usePlanPreview(body(lines), 95000), {
      wrapper,
      initialProps: { lines: 1 },
    });
    for (const lines of [2, 20, 25]) {
      act(() => rerender({ lines }));
    }
    await waitFor(() => expect(result.current.data?.lines).toBe(25));
    expect(calls.filter((c) => c.path === '/bots/preview').map((c) => c.body)).toEqual([
      { ...body(1), reference_price: 95000 },
      { ...body(25), reference_price: 95000 },
    ]);
  });

  it('shows the refusal the API gives for a grid that cannot trade', async () => {
    stubApi(() => ({
      status: 422,
      body: { type: '/problems/invalid-grid', title: 'Grid cannot trade', status: 422, detail: 'grid spacing is too tight for the fees' },
    }));
    const { result } = renderHook(() => usePlanPreview(body(400), null), { wrapper });
    await waitFor(() => expect(result.current.error).toBeTruthy());
    expect(String(result.current.error)).toContain('too tight for the fees');
  });
});
