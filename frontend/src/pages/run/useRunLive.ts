import { useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/ApiContext';
import { unwrap } from '../../api/problem';
import type { EquityPoint, Fill, Guard, Order, RunStatus } from '../../api/types';
import { isActive } from '../../lib/pnl';

/** Once a second while the run trades: a fill shows within two seconds of the exchange's. */
export const LIVE_POLL_MS = 1000;
/** A stopped run changes only if it is started again. */
const IDLE_POLL_MS = 10_000;
const EQUITY_POLL_MS = 5000;
const EQUITY_PAGE = 1000;
/** Fills kept in the page (the newest): the table and the chart markers. */
export const FILLS_KEPT = 2000;

export interface RunLive {
  run: RunStatus | null;
  fills: Fill[];
  orders: Order[];
  guards: Guard[];
  equity: EquityPoint[];
  error: unknown;
}

/** Repeats `step` every `delayMs(result)` (counted from the start of the previous step, so a
 * slow answer does not stretch the period) until unmounted or `key` changes. */
function usePolling<T>(key: string, step: () => Promise<T>, delayMs: (result: T | undefined) => number) {
  const latestStep = useRef(step);
  latestStep.current = step;
  const latestDelay = useRef(delayMs);
  latestDelay.current = delayMs;
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function tick() {
      const started = Date.now();
      let result: T | undefined;
      try {
        result = await latestStep.current();
      } catch {
        result = undefined; // the step reports its own error; polling goes on
      }
      if (alive) timer = setTimeout(() => void tick(), Math.max(0, latestDelay.current(result) - (Date.now() - started)));
    }
    void tick();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [key]);
}

/**
 * Everything the run page shows, from `GET /runs/{id}/updates` polled with its cursor: each
 * poll returns only the fills recorded since the previous one (`more`: ask again at once), the
 * working orders, the guards and the status. The equity curve grows from `/equity` by offset.
 */
export function useRunLive(runId: string): RunLive {
  const api = useApi();
  const [state, setState] = useState<RunLive>({ run: null, fills: [], orders: [], guards: [], equity: [], error: null });
  const cursor = useRef<string | null>(null);
  const equityCount = useRef(0);
  const active = state.run ? isActive(state.run.status) : true;

  useEffect(() => {
    cursor.current = null;
    equityCount.current = 0;
    setState({ run: null, fills: [], orders: [], guards: [], equity: [], error: null });
  }, [runId]);

  usePolling(
    `updates:${runId}`,
    async () => {
      try {
        const query = cursor.current === null ? {} : { since: cursor.current };
        const update = unwrap(await api.GET('/runs/{run_id}/updates', { params: { path: { run_id: runId }, query } }));
        cursor.current = update.cursor;
        setState((previous) => ({
          ...previous,
          run: update.run,
          fills: update.fills.length ? [...previous.fills, ...update.fills].slice(-FILLS_KEPT) : previous.fills,
          orders: update.orders,
          guards: update.guards,
          error: null,
        }));
        return update;
      } catch (error) {
        setState((previous) => ({ ...previous, error }));
        throw error;
      }
    },
    (update) => (update?.more ? 0 : update && !isActive(update.run.status) ? IDLE_POLL_MS : LIVE_POLL_MS),
  );

  usePolling(
    `equity:${runId}`,
    async () => {
      let page: EquityPoint[];
      do {
        const query = { limit: EQUITY_PAGE, offset: equityCount.current };
        page = unwrap(await api.GET('/runs/{run_id}/equity', { params: { path: { run_id: runId }, query } }));
        equityCount.current += page.length;
        if (page.length) setState((previous) => ({ ...previous, equity: [...previous.equity, ...page] }));
      } while (page.length === EQUITY_PAGE);
    },
    () => (active ? EQUITY_POLL_MS : IDLE_POLL_MS),
  );

  return state;
}
