import { useRef } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { keys } from '../../api/hooks';
import { unwrap } from '../../api/problem';
import type { BotCreate } from '../../api/types';

/**
 * A backtest and a run need a saved bot: the wizard saves its settings once, then updates that
 * same bot (`PATCH`) when the name or grid change, so trying settings leaves one bot behind.
 * Another pair is another bot (a bot's pair never changes).
 */
export function useSavedBot() {
  const api = useApi();
  const queries = useQueryClient();
  const saved = useRef<{ id: string; body: BotCreate } | null>(null);
  const save = useMutation({
    mutationFn: async (body: BotCreate) => {
      const previous = saved.current;
      if (previous && previous.body.pair === body.pair) {
        return unwrap(
          await api.PATCH('/bots/{bot_id}', { params: { path: { bot_id: previous.id } }, body: { name: body.name, grid: body.grid } }),
        );
      }
      return unwrap(await api.POST('/bots', { body }));
    },
    onSuccess: (bot, body) => {
      saved.current = { id: bot.id, body };
      void queries.invalidateQueries({ queryKey: keys.bots });
    },
  });

  async function ensureSaved(body: BotCreate): Promise<string> {
    if (saved.current && JSON.stringify(saved.current.body) === JSON.stringify(body)) return saved.current.id;
    return (await save.mutateAsync(body)).id;
  }

  return { ensureSaved, error: save.error, isSaving: save.isPending, reset: save.reset };
}
