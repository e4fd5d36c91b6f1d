import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useBilling, useConsent, useCredentials, useOnboarding } from '../../api/hooks';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime, formatDuration } from '../../lib/format';
import { PlanPicker } from '../billing/PlanPicker';
import { BinanceKeyGuide } from '../keys/BinanceKeyGuide';
import { KeyList } from '../keys/KeyList';
import { KeysForm } from '../keys/KeysForm';
import { ConsentStep } from './ConsentStep';

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

/** The checklist from sign-in to live, as the API's `GET /onboarding` sees the account. */
export default function OnboardingPage() {
  const onboarding = useOnboarding();
  const billing = useBilling();
  const credentials = useCredentials();
  const consent = useConsent();
  if (onboarding.isLoading) return <Loading what="your checklist" />;
  const state = onboarding.data;
  const keys = credentials.data ?? [];
  const remainingMs = state?.live_from ? Math.max(0, Date.parse(state.live_from) - Date.now()) : null;

  return (
    <section className="page" aria-labelledby="start-title">
      <h1 id="start-title">Get started</h1>
      <p className="lead">Six steps from sign-in to a bot on your own exchange account. Paper comes first, always.</p>
      <ProblemAlert error={onboarding.error ?? billing.error ?? credentials.error} action="Your checklist could not be loaded" />
      {state ? (
        <ol className="steps">
          <Step index={1} title="Choose a plan" done={state.paid}>
            <p>
              You are on <strong>{state.plan}</strong>
              {billing.data?.trial_ends ? `, trial until ${formatDateTime(billing.data.trial_ends)}` : ''}. Paid plans are
              paid on Stripe; you come back here afterwards.
            </p>
            <PlanPicker />
          </Step>
          <Step index={2} title="Create a trade-only Binance key" done={state.has_keys}>
            <BinanceKeyGuide />
          </Step>
          <Step index={3} title="Paste your keys" done={state.keys_verified}>
            <p>Sent once, checked with Binance, stored encrypted. Afterwards only the last 4 characters are ever shown.</p>
            <KeyList keys={keys} />
            <KeysForm />
          </Step>
          <Step index={4} title="Start a first paper bot" done={state.paper_runs > 0}>
            {state.paper_runs > 0 ? (
              <p>
                {state.paper_runs} paper run{state.paper_runs === 1 ? '' : 's'} so far. <Link to="/">See your bots</Link>.
              </p>
            ) : (
              <p>
                Paper bots trade simulated money on live prices. <Link to="/bots/new">Create your first bot</Link> — the
                wizard draws the grid over real candles and backtests it before you start.
              </p>
            )}
          </Step>
          <Step index={5} title="Read and accept the risk disclosure" done={consent.data?.live_allowed ?? false}>
            <ConsentStep />
          </Step>
          <Step index={6} title={`${state.paper_days_required} days of paper, then live`} done={state.live_allowed}>
            {state.first_paper_started_at ? (
              <>
                <div className="progress-wrap">
                  <progress max={state.paper_days_required} value={state.paper_days_done} aria-label="Paper days done">
                    {state.paper_days_done} of {state.paper_days_required} days
                  </progress>
                  <span>
                    {state.paper_days_done} of {state.paper_days_required} paper days done
                  </span>
                </div>
                <p>
                  {remainingMs
                    ? `Live trading opens in ${formatDuration(remainingMs)} (${formatDateTime(state.live_from ?? '')}).`
                    : 'Your paper days are done.'}
                </p>
              </>
            ) : (
              <p>The {state.paper_days_required}-day countdown starts with your first paper bot.</p>
            )}
            {state.missing.length > 0 ? (
              <div>
                <p>Missing before live:</p>
                <ul className="missing">
                  {state.missing.map((item) => (
                    <li key={item}>{item}</li>
                  ))}
                </ul>
              </div>
            ) : (
              <p className="gain">Nothing is missing: start a bot live from its card on the <Link to="/">Bots</Link> page.</p>
            )}
          </Step>
        </ol>
      ) : null}
    </section>
  );
}
