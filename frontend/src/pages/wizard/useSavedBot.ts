import { useRef } from 'react';
import { useCreateBot } from '../../api/hooks';
import type { BotCreate } from '../../api/types';

/**
 * A backtest and a run need a saved bot: the wizard saves its settings once and reuses that bot
 * while they do not change; changed settings are saved as a new bot.
 */
export function useSavedBot() {
  const create = useCreateBot();
  const saved = useRef<{ id: string; body: string } | null>(null);

  async function ensureSaved(body: BotCreate): Promise<string> {
    const text = JSON.stringify(body);
    if (saved.current?.body === text) return saved.current.id;
    const bot = await create.mutateAsync(body);
    saved.current = { id: bot.id, body: text };
    return bot.id;
  }

  return { ensureSaved, error: create.error, isSaving: create.isPending };
}
