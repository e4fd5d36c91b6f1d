import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useBilling, useCredentials, useRuns } from '../../api/hooks';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime, formatDuration } from '../../lib/format';
import { PlanPicker } from '../billing/PlanPicker';
import { BinanceKeyGuide } from '../keys/BinanceKeyGuide';
import { KeyList } from '../keys/KeyList';
import { KeysForm } from '../keys/KeysForm';
import { paperCountdown } from './paperCountdown';

function Step({ index, title, done, children }: { index: number; title: string; done: boolean; children: ReactNode }) {
  return (
    <li className={`step card ${done ? 'step-done' : ''}`}>
      <h2>
        <span className="step-mark" aria-hidden="true">
          {done ? '✓' : index}
        </span>
        {title}
        <span className="sr-only">{done ? ' (done)' : ' (to do)'}</span>
      </h2>
      {children}
    </li>
  );
}

export default function OnboardingPage() {
  const billing = useBilling();
  const credentials = useCredentials();
  const runs = useRuns();
  if (billing.isLoading || credentials.isLoading || runs.isLoading) return <Loading what="your checklist" />;
  const error = billing.error ?? credentials.error ?? runs.error;
  const plan = billing.data?.plan;
  const keys = credentials.data ?? [];
  const paperRuns = (runs.data ?? []).filter((run) => run.mode === 'paper');
  const countdown = paperCountdown(billing.data?.live_trading_from ?? null, Date.now());
  const missing = [
    !plan?.live_trading ? 'a paid plan with live trading (Starter or Pro)' : null,
    keys.length === 0 ? 'trade-only exchange keys' : null,
    paperRuns.length === 0 ? 'a first paper bot' : null,
    !countdown || countdown.remainingMs > 0 ? '7 days of paper trading' : null,
  ].filter((item): item is string => item !== null);

  return (
    <section className="page" aria-labelledby="start-title">
      <h1 id="start-title">Get started</h1>
      <p className="lead">Five steps from sign-in to a bot on your own exchange account. Paper comes first, always.</p>
      <ProblemAlert error={error} action="Your checklist could not be loaded" />
      <ol className="steps">
        <Step index={1} title="Choose a plan" done={Boolean(billing.data?.paid)}>
          <p>
            You are on <strong>{plan?.name ?? '…'}</strong>
            {billing.data?.trial_ends ? `, trial until ${formatDateTime(billing.data.trial_ends)}` : ''}. Paid plans are paid
            on Stripe; you come back here afterwards.
          </p>
          <PlanPicker />
        </Step>
        <Step index={2} title="Create a trade-only Binance key" done={keys.length > 0}>
          <BinanceKeyGuide />
        </Step>
        <Step index={3} title="Paste your keys" done={keys.length > 0}>
          <p>Sent once, checked with Binance, stored encrypted. Afterwards only the last 4 characters are ever shown.</p>
          <KeyList keys={keys} />
          <KeysForm />
        </Step>
        <Step index={4} title="Start a first paper bot" done={paperRuns.length > 0}>
          {paperRuns.length > 0 ? (
            <p>
              {paperRuns.length} paper run{paperRuns.length === 1 ? '' : 's'} so far. <Link to="/">See your bots</Link>.
            </p>
          ) : (
            <p>
              Paper bots trade simulated money on live prices. <Link to="/bots/new">Create your first bot</Link> — the
              wizard draws the grid over real candles and backtests it before you start.
            </p>
          )}
        </Step>
        <Step index={5} title="7 days of paper, then live" done={missing.length === 0}>
          {countdown ? (
            <>
              <div className="progress-wrap">
                <progress max={countdown.daysRequired} value={countdown.daysDone} aria-label="Paper days done">
                  {countdown.daysDone} of {countdown.daysRequired} days
                </progress>
                <span>
                  {countdown.daysDone} of {countdown.daysRequired} paper days done
                </span>
              </div>
              <p>
                {countdown.remainingMs > 0
                  ? `Live trading can be requested in ${formatDuration(countdown.remainingMs)} (${formatDateTime(billing.data?.live_trading_from ?? '')}).`
                  : 'Your paper days are done.'}
              </p>
            </>
          ) : (
            <p>The 7-day countdown starts with your first paper bot.</p>
          )}
          {missing.length > 0 ? (
            <div>
              <p>Missing before live:</p>
              <ul className="missing">
                {missing.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            </div>
          ) : (
            <p className="gain">Nothing is missing: start a bot in live mode from its page.</p>
          )}
        </Step>
      </ol>
    </section>
  );
}
