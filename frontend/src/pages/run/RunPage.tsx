import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useBot } from '../../api/hooks';
import type { GridEditPreview } from '../../api/types';
import { LineChart, PriceChart, chartColours, type ChartLine, type ChartMarker } from '../../charts';
import { unplacedMarkers } from '../../charts/snap';
import { Figure, TextFigure } from '../../components/Figure';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime, formatDuration, formatPrice, formatQty, plural } from '../../lib/format';
import { gridLinePrices } from '../../lib/grid';
import { isActive, runFigures } from '../../lib/pnl';
import { useCandles } from '../../lib/useCandles';
import { EditGridPanel } from './EditGridPanel';
import { RunControls } from './RunControls';
import { FillsTable, GuardEvents, OrdersTable } from './RunTables';
import { useRunLive } from './useRunLive';



export default function RunPage() {
  const { runId = '' } = useParams();
  const live = useRunLive(runId);
  const run = live.run;
  const bot = useBot(run?.bot_id);
  const candles = useCandles(run?.pair ?? 'BTC/USDT', 500, 5000);
  const openOrders = live.orders;
  // After an edit the run trades the edited grid, not the bot's saved one: the edit's exact
  // lines while this page applied it, else the run's grid (its saved plan while they agree).
  const [edited, setEdited] = useState<GridEditPreview | null>(null);
  const runGrid = run?.grid ?? null;
  const saved = bot.data;
  const linePrices = useMemo(() => {
    if (edited) return edited.plan.line_prices;
    const same =
      saved && (!runGrid || (['lower', 'upper', 'lines', 'spacing'] as const).every((k) => runGrid[k] === saved.grid[k]));
    if (same) return saved.plan.line_prices;
    return runGrid ? gridLinePrices(runGrid.lower, runGrid.upper, runGrid.lines, runGrid.spacing) : undefined;
  }, [edited, runGrid, saved]);
  const editApplied = useMemo(() => {
    const newLines = new Set(edited?.plan.line_prices ?? []);
    return openOrders.some((order) => newLines.has(order.price));
  }, [edited, openOrders]);

  const lines = useMemo<ChartLine[]>(() => {
    const grid: ChartLine[] = (linePrices ?? []).map((price) => ({ price, kind: 'grid' }));
    const resting: ChartLine[] = openOrders.map((o) => ({ price: o.price, kind: o.side === 'buy' ? 'buy' : 'sell' }));
    return [...grid, ...resting];
  }, [linePrices, openOrders]);
  const markers = useMemo<ChartMarker[]>(
    () => live.fills.map((f) => ({ time: Math.floor(f.ts / 1000), side: f.side === 'buy' ? 'buy' : 'sell', price: f.price })),
    [live.fills],
  );
  const unplaced = useMemo(() => unplacedMarkers(candles.data ?? [], markers), [candles.data, markers]);
  const equityPoints = useMemo(() => live.equity.map((p) => ({ time: Math.floor(p.ts / 1000), value: p.equity })), [live.equity]);

  if (live.error && !run) {
    return (
      <section className="page">
        <h1>Run {runId}</h1>
        <ProblemAlert error={live.error} action="This run could not be loaded" />
        <Link to="/">Back to your bots</Link>
      </section>
    );
  }
  if (!run) return <Loading what="the run" />;

  const investment = bot.data?.grid.investment;
  const figures = investment ? runFigures(run, investment, Date.now()) : null;
  const [base = '', quote = 'USDT'] = run.pair.split('/');
  return (
    <section className="page" aria-labelledby="run-title">
      <div className="page-head">
        <div>
          <div className="title-row">
            <h1 id="run-title">{bot.data?.name ?? run.pair}</h1>
            <StatusBadge status={run.status} />
          </div>
          <p className="muted">
            {run.pair} · {run.mode === 'live' ? 'Live' : 'Paper'} run {run.id}
          </p>
        </div>
        <RunControls run={run} />
      </div>
      {run.stop_reason ? <p className="alert">Stopped: {run.stop_reason}</p> : null}
      {live.error ? <ProblemAlert error={live.error} action="Live updates paused" /> : null}
      <dl className="figures card">
        <Figure label="Equity" value={run.latest?.equity} />
        <Figure label="Total P&L" value={figures?.totalPnl} kind="signed-usd" />
        <Figure label="Grid profit" value={figures?.gridProfit} kind="signed-usd" />
        <Figure label="Price P&L" value={figures?.pricePnl} kind="signed-usd" />
        <Figure label="Round trips" value={run.latest?.round_trips} kind="count" />
        <Figure label="Fees" value={run.latest?.fees} />
        <Figure label="Fills" value={run.fills} kind="count" />
        <Figure label="Open orders" value={run.open_orders} kind="count" />
        <TextFigure label="Last price">{run.latest ? `${formatPrice(run.latest.price)} ${quote}` : '—'}</TextFigure>
        <TextFigure label={`${base} held`}>{run.latest ? `${formatQty(run.latest.base)} ${base}` : '—'}</TextFigure>
        <TextFigure label="Uptime">{figures ? formatDuration(figures.uptimeMs) : '—'}</TextFigure>
      </dl>
      {!run.latest ? (
        <p className="muted small">Equity and P&amp;L figures start with the run’s first snapshot.</p>
      ) : null}
      <p className="sr-only" aria-live="polite">
        {run.fills} fills, {run.open_orders} open orders
      </p>
      <section className="card" aria-labelledby="run-chart-title">
        <h2 id="run-chart-title">Price, grid and fills</h2>
        {candles.error ? <ProblemAlert error={candles.error} action="Candles unavailable" /> : null}
        <PriceChart
          label={`${run.pair} candles with the grid lines, ${openOrders.length} open orders and ${live.fills.length} fills`}
          candles={candles.data ?? []}
          lines={lines}
          markers={markers}
          height={420}
        />
        {unplaced.after > 0 && unplaced.end !== null ? (
          <p className="muted small" role="status">
            The exchange’s candles end at {formatDateTime(unplaced.end * 1000)}: the run’s{' '}
            {plural(unplaced.after, 'newer fill')} will appear as their candles arrive (they are listed under Fills below).
          </p>
        ) : null}
        <p className="legend">
          <span className="swatch" style={{ background: chartColours.up }} aria-hidden="true" /> Buy orders and fills
          <span className="swatch" style={{ background: chartColours.down }} aria-hidden="true" /> Sell orders and fills
          <span className="swatch" style={{ background: chartColours.grid }} aria-hidden="true" /> Grid lines
        </p>
      </section>
      {isActive(run.status) && (run.grid ?? bot.data) ? (
        <EditGridPanel run={run} grid={run.grid ?? bot.data!.grid} applied={editApplied} onApplied={setEdited} />
      ) : null}
      <div className="two-col">
        <section className="card" aria-labelledby="equity-title">
          <h2 id="equity-title">Equity</h2>
          {equityPoints.length > 1 ? (
            <LineChart label="Equity of the run over time" series={[{ title: 'Equity', colour: chartColours.equity, points: equityPoints }]} />
          ) : (
            <p className="muted">The equity curve starts with the run’s second snapshot.</p>
          )}
        </section>
        <section className="card" aria-labelledby="guards-title">
          <h2 id="guards-title">Guard events</h2>
          <GuardEvents guards={live.guards} />
        </section>
      </div>
      <section className="card" aria-labelledby="orders-title">
        <h2 id="orders-title">Open orders</h2>
        <OrdersTable orders={openOrders} quote={quote} />
      </section>
      <section className="card" aria-labelledby="fills-title">
        <h2 id="fills-title">Fills</h2>
        <FillsTable fills={live.fills} total={run.fills} quote={quote} />
      </section>
    </section>
  );
}
