import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { GridEditPreview, RunStatus } from '../../api/types';
import { renderWithApi, stubApi } from '../../test/render';
import { EditGridPanel } from './EditGridPanel';

const run: RunStatus = {
  id: 'r1', bot_id: 'b1', mode: 'paper', exchange: 'binance', pair: 'BTC/USDT', status: 'running', stop_reason: null,
  created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z', latest: null, open_orders: 2, fills: 2, grid: null, clock_ts: 0, started_ts: null,
};
const grid = { lower: 94820, upper: 95547, lines: 4, investment: 2000, spacing: 'arithmetic' as const };
const order = { client_order_id: 'o1', exchange_order_id: null, line: 1, side: 'buy', kind: 'limit', price: 95062.33, qty: 0.007, filled_qty: 0, status: 'open', created_ts: 0, updated_ts: 0 };
const diff = {
  reference_price: 95304.67, reference_ts: null, cancel: [order], place: [{ line: 0, side: 'buy', price: 94600, qty: 0.005 }],
  base_to_buy: 0.0035, quote_for_base: 333, investment_before: 2000, investment_after: 2000.15, capital_change: 0.15, empty_line: 2,
  plan: { lower: 94600, upper: 95800, lines: 5, spacing: 'arithmetic', investment: 2000.15, line_prices: [94600, 94900, 95200, 95500, 95800], order_sizes: [], order_quote_per_cell: 500, min_investment: 24.5, profit_per_grid_pct_min: 0.1, profit_per_grid_pct_max: 0.1, profit_per_grid_quote_min: 0.5, profit_per_grid_quote_max: 0.5 },
} satisfies GridEditPreview;

describe('EditGridPanel', () => {
  it('shows the diff of the edit, asks, then applies exactly the previewed values', async () => {
    const calls = stubApi((call) => {
      if (call.path === '/runs/r1/grid/preview') return { body: diff };
      if (call.path === '/runs/r1/grid') return { status: 202, body: { request_id: 7, status: 'queued', preview: diff } };
      return undefined;
    });
    const applied = vi.fn();
    const user = userEvent.setup();
    renderWithApi(<EditGridPanel run={run} grid={grid} applied={false} onApplied={applied} />);
    await user.clear(screen.getByLabelText('New lower price'));
    await user.type(screen.getByLabelText('New lower price'), '94600');
    await user.clear(screen.getByLabelText('New upper price'));
    await user.type(screen.getByLabelText('New upper price'), '95800');
    await user.clear(screen.getByLabelText('New grid lines'));
    await user.type(screen.getByLabelText('New grid lines'), '5');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(await screen.findByRole('table', { name: '1 order to cancel' })).toHaveTextContent('95,062.33');
    expect(screen.getByRole('table', { name: '1 order to place' })).toHaveTextContent('94,600.00');
    expect(screen.getByText('+$0.15')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/runs/r1/grid')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Apply to the running bot' }));
    const dialog = screen.getByRole('dialog', { name: 'Apply this grid edit?' });
    expect(dialog).toHaveTextContent('cancels 1 order, places 1 and buys 0.0035 BTC at market');
    await user.click(within(dialog).getByRole('button', { name: 'Apply edit' }));
    expect(await screen.findByText(/Edit queued/)).toBeInTheDocument();
    expect(calls.find((c) => c.path === '/runs/r1/grid')?.body).toEqual({ lower: 94600, upper: 95800, lines: 5 });
    expect(applied).toHaveBeenCalledWith(diff);
  });

  it('refuses a range the API would refuse before asking it', async () => {
    const calls = stubApi(() => undefined);
    const user = userEvent.setup();
    renderWithApi(<EditGridPanel run={run} grid={grid} applied={false} onApplied={vi.fn()} />);
    await user.clear(screen.getByLabelText('New upper price'));
    await user.type(screen.getByLabelText('New upper price'), '90000');
    expect(screen.getByText('The upper price must be above the lower price.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Preview changes' })).toBeDisabled();
    expect(calls).toHaveLength(0);
  });

  it("puts the API's field error beside its input and the grid refusal in the alert", async () => {
    stubApi((call) =>
      call.path === '/runs/r1/grid/preview'
        ? {
            status: 422,
            body: {
              type: '/problems/validation',
              title: 'Invalid request',
              status: 422,
              detail: 'body.lines: Input should be less than or equal to 500',
              errors: [{ loc: ['body', 'lines'], msg: 'Input should be less than or equal to 500' }],
            },
          }
        : undefined,
    );
    const user = userEvent.setup();
    renderWithApi(<EditGridPanel run={run} grid={grid} applied={false} onApplied={vi.fn()} />);
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(await screen.findByText('Input should be less than or equal to 500')).toBeInTheDocument();
    expect(screen.getByLabelText('New grid lines')).toHaveAccessibleDescription('Input should be less than or equal to 500');
    expect(screen.getByRole('alert')).toHaveTextContent('This edit cannot be applied: Invalid request');
  });
});
