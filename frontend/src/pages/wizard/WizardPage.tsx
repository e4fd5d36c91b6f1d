import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { useStartRun } from '../../api/hooks';
import { ApiProblem, unwrap } from '../../api/problem';
import { PriceChart, type ChartLine } from '../../charts';
import { KillSwitchNotice, StartRunButton } from '../../components/KillSwitch';
import { ProblemAlert } from '../../components/ProblemAlert';
import { gridLinePrices } from '../../lib/grid';
import { toBotCreate, validateGrid, type GridFormErrors, type GridFormValues } from '../../lib/gridForm';
import { fillMarkers } from '../../lib/backtestResult';
import { useCandles } from '../../lib/useCandles';
import { BacktestResults, useBacktest } from './BacktestPanel';
import { GridForm } from './GridForm';
import { PlanSummary } from './PlanSummary';
import { usePlanPreview } from './usePlanPreview';
import { useSavedBot } from './useSavedBot';

const START: GridFormValues = {
  name: 'My BTC grid',
  pair: 'BTC/USDT',
  lower: '90000',
  upper: '105000',
  lines: '20',
  spacing: 'geometric',
  investment: '1000',
};

/** The form's fields by the API's names (a validation problem's `loc` ends with one). */
const FORM_FIELDS = ['name', 'pair', 'lower', 'upper', 'lines', 'spacing', 'investment'] as const;

/** The API's field errors of a refusal, on the form's fields. */
function serverFieldErrors(error: unknown): GridFormErrors {
  const found = error instanceof ApiProblem ? error.fieldErrors() : {};
  const errors: GridFormErrors = {};
  for (const field of FORM_FIELDS) if (found[field]) errors[field] = found[field];
  return errors;
}

/** The grid over the last candles: its bounds bold, the lines between dashed. */
function chartLines(prices: readonly number[]): ChartLine[] {
  return prices.map((price, i) => ({
    price,
    kind: i === 0 || i === prices.length - 1 ? 'bound' : 'grid',
    title: i === 0 ? 'lower' : i === prices.length - 1 ? 'upper' : undefined,
  }));
}

export default function WizardPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [values, setValues] = useState(START);
  const errors = validateGrid(values);
  const valid = Object.keys(errors).length === 0;
  const body = useMemo(() => (valid ? toBotCreate(values) : null), [valid, values]);
  const candles = useCandles(values.pair);
  const lastClose = candles.data?.at(-1)?.close ?? null;
  const preview = usePlanPreview(body, lastClose);
  const saved = useSavedBot();
  const start = useStartRun();
  const [backtestId, setBacktestId] = useState<string | null>(null);
  const backtest = useBacktest(backtestId);

  const lines = useMemo(() => {
    const exact = preview.data && !preview.isPlaceholderData ? preview.data.line_prices : null;
    const typed = body ? gridLinePrices(body.grid.lower, body.grid.upper, body.grid.lines, values.spacing) : [];
    return chartLines(exact ?? typed);
  }, [preview.data, preview.isPlaceholderData, body, values.spacing]);

  const runBacktest = useMutation({
    mutationFn: async () => {
      if (!body) throw new Error('fix the settings first');
      const botId = await saved.ensureSaved(body);
      // Backtest over the very candles on the chart (ms open times), else the demo week.
      const rows = candles.data?.map((c) => [c.time * 1000, c.open, c.high, c.low, c.close, c.volume]);
      const job = unwrap(
        await api.POST('/backtests', { body: rows && rows.length >= 2 ? { bot_id: botId, candles: rows } : { bot_id: botId } }),
      );
      setBacktestId(job.id);
      return job;
    },
  });

  const markers = useMemo(() => fillMarkers(backtest.data), [backtest.data]);

  const startPaper = useMutation({
    mutationFn: async () => {
      if (!body) throw new Error('fix the settings first');
      const botId = await saved.ensureSaved(body);
      return start.mutateAsync({ bot_id: botId });
    },
    onSuccess: (run) => void navigate(`/runs/${run.id}`),
  });

  // A refusal's field errors stand beside their inputs until the settings change.
  const refusal = saved.error ?? startPaper.error;
  const shownErrors = { ...serverFieldErrors(refusal), ...errors };
  function change(next: GridFormValues) {
    setValues(next);
    saved.reset();
    startPaper.reset();
  }

  const base = values.pair.split('/')[0] ?? '';
  return (
    <section className="page" aria-labelledby="wizard-title">
      <div className="page-head">
        <h1 id="wizard-title">New grid bot</h1>
      </div>
      <KillSwitchNotice />
      <div className="wizard">
        <div className="wizard-side">
          <form
            className="card"
            aria-label="Grid settings"
            onSubmit={(event) => {
              event.preventDefault();
              startPaper.mutate();
            }}
          >
            <GridForm values={values} errors={shownErrors} onChange={change} />
            <div className="card-actions">
              <button type="button" className="button secondary" disabled={!valid || runBacktest.isPending} onClick={() => runBacktest.mutate()}>
                Backtest these settings
              </button>
              <StartRunButton type="submit" className="button primary" disabled={!valid || startPaper.isPending}>
                Start paper bot
              </StartRunButton>
            </div>
            <p className="muted small">Paper bots trade simulated money on real prices. Nothing is sent to your exchange.</p>
            <ProblemAlert error={refusal} action="Not saved" fieldsShown={FORM_FIELDS} />
          </form>
          <PlanSummary preview={preview} base={base} />
        </div>
        <div className="wizard-main">
          <section className="card" aria-labelledby="chart-title">
            <h2 id="chart-title">
              {values.pair} · last {candles.data?.length ?? 0} one-minute candles
            </h2>
            {candles.error ? <ProblemAlert error={candles.error} action="Candles unavailable" /> : null}
            <PriceChart
              label={`Price chart of ${values.pair} with ${lines.length} grid lines${markers.length ? ` and ${markers.length} backtest fills` : ''}`}
              candles={candles.data ?? []}
              lines={lines}
              markers={markers}
            />
          </section>
          <section className="card" aria-labelledby="backtest-title">
            <h2 id="backtest-title">Backtest</h2>
            <ProblemAlert error={runBacktest.error} action="Backtest refused" />
            {backtest.data ? (
              <BacktestResults job={backtest.data} />
            ) : (
              <p className="muted">“Backtest these settings” replays the candles on the chart through the grid engine.</p>
            )}
          </section>
        </div>
      </div>
    </section>
  );
}
