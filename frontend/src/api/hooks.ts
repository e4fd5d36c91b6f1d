import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from './ApiContext';
import { unwrap } from './problem';
import type { CheckoutPlan, KeysInput } from './types';

/** Query keys: one place, so mutations invalidate exactly what they change. */
export const keys = {
  me: ['me'] as const,
  audit: ['me', 'audit'] as const,
  billing: ['billing'] as const,
  plans: ['billing', 'plans'] as const,
  credentials: ['credentials'] as const,
  bots: ['bots'] as const,
  bot: (id: string) => ['bots', id] as const,
  runs: ['runs'] as const,
  run: (id: string) => ['runs', id] as const,
  killSwitch: ['kill-switch'] as const,
  onboarding: ['onboarding'] as const,
  consent: ['consent'] as const,
  backtest: (id: string | null) => ['backtests', id] as const,
  dexAccess: ['dex', 'access'] as const,
};

export function useMe() {
  const api = useApi();
  return useQuery({ queryKey: keys.me, queryFn: async () => unwrap(await api.GET('/me')) });
}

export function useOnboarding() {
  const api = useApi();
  return useQuery({ queryKey: keys.onboarding, queryFn: async () => unwrap(await api.GET('/onboarding')) });
}

export function useConsent() {
  const api = useApi();
  return useQuery({ queryKey: keys.consent, queryFn: async () => unwrap(await api.GET('/consent')) });
}

export function useAcceptConsent() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (versions: string[]) => unwrap(await api.POST('/consent', { body: { versions } })),
    // A 409 means a newer text came out: the refetch shows it to be read and accepted again.
    onSettled: () => {
      void queries.invalidateQueries({ queryKey: keys.consent });
      void queries.invalidateQueries({ queryKey: keys.onboarding });
    },
  });
}

export function useAudit() {
  const api = useApi();
  return useQuery({
    queryKey: keys.audit,
    queryFn: async () => unwrap(await api.GET('/me/audit', { params: { query: { limit: 100 } } })),
  });
}

export function useBilling() {
  const api = useApi();
  return useQuery({ queryKey: keys.billing, queryFn: async () => unwrap(await api.GET('/billing')) });
}

export function usePlans() {
  const api = useApi();
  return useQuery({
    queryKey: keys.plans,
    queryFn: async () => unwrap(await api.GET('/billing/plans')),
    staleTime: Infinity,
  });
}

/** Stripe pages are whole-page redirects: the API answers with the URL to go to. */
export function useStripeRedirect() {
  const api = useApi();
  return useMutation({
    mutationFn: async (target: { checkout: CheckoutPlan } | 'portal') => {
      const answer =
        target === 'portal'
          ? await api.POST('/billing/portal')
          : await api.POST('/billing/checkout', { body: { plan: target.checkout } });
      return unwrap(answer).url;
    },
    onSuccess: (url) => window.location.assign(url),
  });
}

export function useCredentials() {
  const api = useApi();
  return useQuery({ queryKey: keys.credentials, queryFn: async () => unwrap(await api.GET('/credentials')) });
}

export function useStoreKeys() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: KeysInput) => unwrap(await api.PUT('/credentials', { body })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: keys.credentials });
      void queries.invalidateQueries({ queryKey: keys.onboarding });
    },
  });
}

export function useDeleteKeys() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (key: { exchange: string; label: string }) =>
      unwrap(await api.DELETE('/credentials', { params: { query: key } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.credentials }),
  });
}

export function useDeleteBot() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (botId: string) => unwrap(await api.DELETE('/bots/{bot_id}', { params: { path: { bot_id: botId } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.bots }),
  });
}

export function useBots() {
  const api = useApi();
  return useQuery({ queryKey: keys.bots, queryFn: async () => unwrap(await api.GET('/bots')) });
}

export function useBot(botId: string | null | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: keys.bot(botId ?? ''),
    queryFn: async () => unwrap(await api.GET('/bots/{bot_id}', { params: { path: { bot_id: botId ?? '' } } })),
    enabled: Boolean(botId),
  });
}

export function useRuns(refetchInterval: number | false = false) {
  const api = useApi();
  return useQuery({
    queryKey: keys.runs,
    queryFn: async () => unwrap(await api.GET('/runs', { params: { query: { limit: 1000 } } })),
    refetchInterval,
  });
}

export function useStartRun() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: { bot_id: string; live?: boolean }) => unwrap(await api.POST('/runs', { body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.runs }),
  });
}

export function useStopRun() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (runId: string) =>
      unwrap(await api.POST('/runs/{run_id}/stop', { params: { path: { run_id: runId } } })),
    onSuccess: (run) => {
      void queries.invalidateQueries({ queryKey: keys.runs });
      void queries.invalidateQueries({ queryKey: keys.run(run.id) });
    },
  });
}

export function useKillSwitch() {
  const api = useApi();
  return useQuery({
    queryKey: keys.killSwitch,
    queryFn: async () => unwrap(await api.GET('/kill-switch')),
    refetchInterval: 5000,
  });
}

export function useTripKillSwitch() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (reason: string) => unwrap(await api.POST('/kill-switch', { body: { reason } })),
    // Every query is stale now, but the trip is done: the confirmation closes at once instead
    // of saying "Working…" until the whole page (its chart's candles too) has been read again.
    onSuccess: () => {
      void queries.invalidateQueries();
    },
  });
}
