import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { keys } from '../../api/hooks';
import { unwrap } from '../../api/problem';
import type { Backtest } from '../../api/types';
import { LineChart, chartColours } from '../../charts';
import { Figure, TextFigure } from '../../components/Figure';
import { ProblemAlert } from '../../components/ProblemAlert';
import { buyAndHoldSeries, equitySeries, figure, fillsShown, type BacktestResult } from '../../lib/backtestResult';
import { formatPct } from '../../lib/format';

const POLL_MS = 1000;

function isOver(job: Backtest | undefined): boolean {
  return job?.status === 'done' || job?.status === 'failed';
}

/** A backtest job followed until it is done, then its figures and equity against buy & hold. */
export function useBacktest(backtestId: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: keys.backtest(backtestId),
    queryFn: async () =>
      unwrap(await api.GET('/backtests/{backtest_id}', { params: { path: { backtest_id: backtestId ?? '' } } })),
    enabled: backtestId !== null,
    refetchInterval: (query) => (isOver(query.state.data) ? false : POLL_MS),
  });
}

export function BacktestResults({ job }: { job: Backtest }) {
  if (job.status === 'failed') {
    return <ProblemAlert error={new Error(job.error ?? 'the backtest failed')} action="Backtest failed" />;
  }
  if (!isOver(job) || !job.result) {
    return (
      <p role="status" className="muted">
        Backtesting… {Math.round(job.progress * 100)} %
      </p>
    );
  }
  const result: BacktestResult = job.result;
  const days = figure(result, 'days');
  const timeInRange = figure(result, 'time_in_range');
  const newest = fillsShown(job);
  // The engine's drawdown is a fraction of the equity's peak, not money.
  const maxDrawdown = figure(result, 'max_drawdown');
  return (
    <div className="backtest-results" role="status">
      <p className="muted small">
        {figure(result, 'candles')?.toLocaleString('en-US')} candles · {days?.toFixed(1)} days ·{' '}
        {job.candles === 'uploaded' ? 'the candles on the chart' : 'the bundled demo week'}
      </p>
      <dl className="figures">
        <Figure label="Total P&L" value={figure(result, 'total_pnl')} kind="signed-usd" />
        <Figure label="Total return" value={figure(result, 'total_return_pct')} kind="signed-pct" />
        <Figure label="Buy & hold P&L" value={figure(result, 'buy_and_hold_pnl')} kind="signed-usd" />
        <Figure label="Grid profit" value={figure(result, 'grid_profit')} kind="signed-usd" />
        <Figure label="Round trips" value={figure(result, 'round_trips')} kind="count" />
        <Figure label="Fills" value={figure(result, 'fills')} kind="count" />
        <Figure label="Fees paid" value={figure(result, 'fees_paid')} />
        <TextFigure label="Max drawdown">{maxDrawdown !== null ? formatPct(maxDrawdown * 100, 2) : '—'}</TextFigure>
        <TextFigure label="Time in range">{timeInRange !== null ? formatPct(timeInRange * 100, 1) : '—'}</TextFigure>
      </dl>
      <LineChart
        label="Backtest equity of the grid against buying and holding"
        series={[
          { title: 'Grid equity', colour: chartColours.equity, points: equitySeries(job) },
          { title: 'Buy & hold', colour: chartColours.benchmark, points: buyAndHoldSeries(job) },
        ]}
      />
      <p className="legend">
        <span className="swatch" style={{ background: chartColours.equity }} aria-hidden="true" /> Grid equity
        <span className="swatch" style={{ background: chartColours.benchmark }} aria-hidden="true" /> Buy & hold
      </p>
      <p className="muted small">
        {job.fills?.length ? `The price chart marks ${newest ?? `its ${job.fills.length.toLocaleString('en-US')} fills`}: B bought, S sold.` : 'No fill: the price never crossed a line.'}
      </p>
    </div>
  );
}
