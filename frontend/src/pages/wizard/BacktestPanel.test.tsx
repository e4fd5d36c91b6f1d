import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Backtest } from '../../api/types';
import { renderWithApi, stubApi } from '../../test/render';
import { BacktestResults, useBacktest } from './BacktestPanel';

const running: Backtest = {
  id: 'b1',
  bot_id: 'bot1',
  status: 'running',
  progress: 0.1,
  candles: 'uploaded',
  error: null,
  created_at: '2024-12-02T09:00:00Z',
  finished_at: null,
};
const done: Backtest = {
  ...running,
  status: 'done',
  progress: 1,
  finished_at: '2024-12-02T09:00:01Z',
  result: { total_pnl: 30, buy_and_hold_pnl: 10, round_trips: 1, fills: 1234, candles: 3, days: 0.002, max_drawdown: 0.0123 },
  equity_curve: [
    { ts: 1_733_131_200_000, equity: 1000, buy_and_hold: 1000 },
    { ts: 1_733_131_260_000, equity: 990, buy_and_hold: 950 },
    { ts: 1_733_131_320_000, equity: 1030, buy_and_hold: 1010 },
  ],
  fills: [
    { ts: 1_733_131_200_000, side: 'buy', line: 2, price: 95_000, qty: 0.001, fee: 0.095 },
    { ts: 1_733_131_260_000, side: 'sell', line: 3, price: 95_500, qty: 0.001, fee: 0.0955 },
  ],
  fills_total: 1234,
};

function Followed() {
  const job = useBacktest('b1');
  return job.data ? <BacktestResults job={job.data} /> : null;
}

describe('BacktestResults', () => {
  it('follows the job until it is done, then shows the figures, the equity chart and which fills are marked', async () => {
    let asked = 0;
    const calls = stubApi((call) => {
      if (call.path !== '/backtests/b1') return undefined;
      asked += 1;
      return { body: asked === 1 ? running : done };
    });
    renderWithApi(<Followed />);
    expect(await screen.findByText(/Backtesting… 10 %/)).toBeInTheDocument();
    expect(await screen.findByText('Buy & hold P&L', {}, { timeout: 3000 })).toBeInTheDocument();
    expect(screen.getByRole('figure', { name: 'Backtest equity of the grid against buying and holding' })).toBeInTheDocument();
    expect(screen.getByText('The price chart marks the newest 2 of 1,234 fills: B bought, S sold.')).toBeInTheDocument();
    expect(screen.getByText('Max drawdown').nextElementSibling).toHaveTextContent('1.23 %'); // a fraction of the peak, not $
    expect(calls.every((c) => c.method === 'GET')).toBe(true);
  });

  it('says when the grid never traded', () => {
    stubApi(() => undefined);
    renderWithApi(<BacktestResults job={{ ...done, fills: [], fills_total: 0 }} />);
    expect(screen.getByText('No fill: the price never crossed a line.')).toBeInTheDocument();
  });

  it('shows a failed job as its one-line error', () => {
    stubApi(() => undefined);
    renderWithApi(<BacktestResults job={{ ...running, status: 'failed', error: 'candles go backwards' }} />);
    expect(screen.getByRole('alert')).toHaveTextContent('candles go backwards');
  });
});
