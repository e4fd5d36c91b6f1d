import { Link, useNavigate } from 'react-router';
import { useState } from 'react';
import { useConsent, useDeleteBot, useOnboarding, useStartRun } from '../../api/hooks';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ProblemAlert } from '../../components/ProblemAlert';
import { Figure, TextFigure } from '../../components/Figure';
import { StartRunButton } from '../../components/KillSwitch';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDuration, formatPct, formatPrice, formatUsd } from '../../lib/format';
import { isActive, runFigures } from '../../lib/pnl';
import type { BotSummary } from './useBotSummaries';

/** A bot's card: its last run's figures, and its start buttons (disabled while the kill switch is on). */
export function BotCard({ summary, now }: { summary: BotSummary; now: number }) {
  const { bot, run, status, guards } = summary;
  const figures = status ? runFigures(status, bot.grid.investment, now) : null;
  const headingId = `bot-${bot.id}`;
  const start = useStartRun();
  const remove = useDeleteBot();
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [confirmingLive, setConfirmingLive] = useState(false);
  const onboarding = useOnboarding();
  const consent = useConsent();
  const liveAllowed = Boolean(onboarding.data?.live_allowed && consent.data?.live_allowed);
  const startable = !run || !isActive(run.status);
  const navigate = useNavigate();
  return (
    <article className="card bot-card" aria-labelledby={headingId}>
      <header className="bot-card-head">
        <div>
          <h2 id={headingId}>{bot.name}</h2>
          <p className="muted">
            {bot.pair} · {formatPrice(bot.grid.lower)}–{formatPrice(bot.grid.upper)} · {bot.grid.lines} lines ·{' '}
            {bot.grid.spacing}
          </p>
        </div>
        <div className="badges">
          {run ? <span className={`badge badge-mode-${run.mode}`}>{run.mode === 'live' ? 'Live' : 'Paper'}</span> : null}
          <StatusBadge status={run?.status ?? 'draft'} />
        </div>
      </header>
      <dl className="figures">
        <Figure label="Total P&L" value={figures?.totalPnl} kind="signed-usd" />
        <Figure label="Grid profit" value={figures?.gridProfit} kind="signed-usd" />
        <Figure label="Price P&L" value={figures?.pricePnl} kind="signed-usd" />
        <Figure label="Round trips" value={figures?.roundTrips} kind="count" />
        <TextFigure label="APR">{figures ? (figures.aprPct !== null ? formatPct(figures.aprPct) : 'after 1 day') : '—'}</TextFigure>
        <TextFigure label="Uptime">{figures ? formatDuration(figures.uptimeMs) : '—'}</TextFigure>
        <Figure label="Investment" value={bot.grid.investment} kind="usd" />
        <TextFigure label="Guards">
          {guards.length === 0 ? (
            <span className="gain">All clear</span>
          ) : (
            <span className="loss">{guards.map((g) => g.guard.replaceAll('_', ' ')).join(', ')}</span>
          )}
        </TextFigure>
      </dl>
      {run?.stop_reason ? <p className="muted small">Stopped: {run.stop_reason}</p> : null}
      <footer className="card-actions">
        {run ? (
          <Link className="button secondary" to={`/runs/${run.id}`} aria-label={`Open run of ${bot.name}`}>
            Open run
          </Link>
        ) : null}
        {startable ? (
          <StartRunButton
            className="button primary"
            disabled={start.isPending}
            aria-label={`Start paper run of ${bot.name}`}
            onClick={() => start.mutate({ bot_id: bot.id }, { onSuccess: (started) => void navigate(`/runs/${started.id}`) })}
          >
            Start paper run
          </StartRunButton>
        ) : null}
        {startable && liveAllowed ? (
          <StartRunButton
            className="button secondary"
            onClick={() => setConfirmingLive(true)}
            aria-label={`Start live run of ${bot.name}`}
          >
            Start live run
          </StartRunButton>
        ) : null}
        {startable ? (
          <button type="button" className="button ghost" onClick={() => setConfirmingDelete(true)} aria-label={`Delete ${bot.name}`}>
            Delete
          </button>
        ) : null}
      </footer>
      <ProblemAlert error={start.error} action="Start refused" />
      <ProblemAlert error={remove.error} action="Not deleted" />
      <ConfirmDialog
        open={confirmingLive}
        title={`Trade ${bot.name} with real money?`}
        confirmLabel="Start live run"
        danger
        busy={start.isPending}
        onCancel={() => setConfirmingLive(false)}
        onConfirm={() =>
          start.mutate({ bot_id: bot.id, live: true }, { onSuccess: (started) => void navigate(`/runs/${started.id}`) })
        }
      >
        <p>
          The bot places real orders on {bot.exchange} with your stored key, investing up to{' '}
          <strong>{formatUsd(bot.grid.investment)}</strong> between {formatPrice(bot.grid.lower)} and {formatPrice(bot.grid.upper)}.
        </p>
        <p>Its guards stop it on a loss limit, and the kill switch stays one click away on its run page.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmingDelete}
        title={`Delete ${bot.name}?`}
        confirmLabel="Delete bot"
        danger
        busy={remove.isPending}
        onCancel={() => setConfirmingDelete(false)}
        onConfirm={() => remove.mutate(bot.id, { onSuccess: () => setConfirmingDelete(false) })}
      >
        <p>The bot and its finished backtests are deleted. Its past runs, fills and P&L stay readable.</p>
      </ConfirmDialog>
    </article>
  );
}
