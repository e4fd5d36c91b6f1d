import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { keys } from '../../api/hooks';
import { unwrap } from '../../api/problem';
import type { EquityPoint, Fill } from '../../api/types';
import { isActive } from '../../lib/pnl';

/** Once a second while the run trades: a fill shows within two seconds of the exchange's. */
export const LIVE_POLL_MS = 1000;
const PAGE = 1000;

/**
 * A list the API pages by offset, grown by polling from the count already held: each poll asks
 * only for what is new (the offset is the cursor), so a long run costs the same per second.
 */
function useGrowingList<T>(
  fetchPage: (offset: number) => Promise<T[]>,
  resetKey: string,
  intervalMs: number | false,
): { items: T[]; error: unknown } {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<unknown>(null);
  const held = useRef<T[]>([]);
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;

  useEffect(() => {
    held.current = [];
    setItems([]);
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function poll() {
      try {
        let page: T[];
        do {
          page = await fetcher.current(held.current.length);
          if (!alive) return;
          if (page.length > 0) {
            held.current = [...held.current, ...page];
            setItems(held.current);
          }
        } while (page.length === PAGE);
        setError(null);
      } catch (caught) {
        if (alive) setError(caught);
      }
      if (alive && intervalMs !== false) timer = setTimeout(poll, intervalMs);
    }
    void poll();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [resetKey, intervalMs]);

  return { items, error };
}

/** Everything the run page shows, kept fresh while the run is active. */
export function useRunLive(runId: string) {
  const api = useApi();
  const path = { run_id: runId };
  const status = useQuery({
    queryKey: keys.run(runId),
    queryFn: async () => unwrap(await api.GET('/runs/{run_id}', { params: { path } })),
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.status) ? 10_000 : LIVE_POLL_MS),
  });
  const active = status.data ? isActive(status.data.status) : true;
  const interval = active ? LIVE_POLL_MS : false;
  const orders = useQuery({
    queryKey: [...keys.run(runId), 'orders'],
    queryFn: async () => unwrap(await api.GET('/runs/{run_id}/orders', { params: { path, query: { limit: 1000 } } })),
    refetchInterval: interval,
  });
  const guards = useQuery({
    queryKey: [...keys.run(runId), 'guards'],
    queryFn: async () => unwrap(await api.GET('/runs/{run_id}/guards', { params: { path } })),
    refetchInterval: active ? 5000 : false,
  });
  const fills = useGrowingList<Fill>(
    async (offset) => unwrap(await api.GET('/runs/{run_id}/fills', { params: { path, query: { limit: PAGE, offset } } })),
    `fills:${runId}`,
    interval,
  );
  const equity = useGrowingList<EquityPoint>(
    async (offset) => unwrap(await api.GET('/runs/{run_id}/equity', { params: { path, query: { limit: PAGE, offset } } })),
    `equity:${runId}`,
    active ? 5000 : false,
  );
  return { status, orders, guards, fills, equity };
}
