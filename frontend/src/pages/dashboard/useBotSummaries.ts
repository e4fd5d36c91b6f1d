import { useQueries } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { keys, useBots, useKillSwitch, useRuns } from '../../api/hooks';
import { unwrap } from '../../api/problem';
import type { Bot, Guard, Run, RunStatus } from '../../api/types';

export interface BotSummary {
  bot: Bot;
  /** The bot's newest run, if it ever ran. */
  run: Run | null;
  status: RunStatus | null;
  /** Active guards stopping this bot: its run's own and the account's kill switch. */
  guards: Guard[];
}

function newestRunByBot(runs: readonly Run[]): Map<string, Run> {
  const newest = new Map<string, Run>();
  for (const run of runs) {
    if (!run.bot_id) continue;
    const seen = newest.get(run.bot_id);
    if (!seen || Date.parse(run.created_at) > Date.parse(seen.created_at)) newest.set(run.bot_id, run);
  }
  return newest;
}

/** Every bot with its newest run's status and guards, refreshed every few seconds. */
export function useBotSummaries() {
  const api = useApi();
  const bots = useBots();
  const runs = useRuns(5000);
  const killSwitch = useKillSwitch();
  const newest = newestRunByBot(runs.data ?? []);
  const statuses = useQueries({
    queries: [...newest.values()].map((run) => ({
      queryKey: keys.run(run.id),
      queryFn: async () => unwrap(await api.GET('/runs/{run_id}', { params: { path: { run_id: run.id } } })),
      refetchInterval: 5000,
    })),
  });
  const statusById = new Map(statuses.flatMap((q) => (q.data ? [[q.data.id, q.data] as const] : [])));
  const activeGuards = (killSwitch.data?.guards ?? []).filter((g) => g.active);
  const summaries: BotSummary[] = (bots.data ?? []).map((bot) => {
    const run = newest.get(bot.id) ?? null;
    return {
      bot,
      run,
      status: run ? (statusById.get(run.id) ?? null) : null,
      guards: activeGuards.filter((g) => g.run_id === null || g.run_id === run?.id),
    };
  });
  return {
    summaries,
    isLoading: bots.isLoading || runs.isLoading,
    error: bots.error ?? runs.error,
    refetch: () => Promise.all([bots.refetch(), runs.refetch()]),
  };
}
