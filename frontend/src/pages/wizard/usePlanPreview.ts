import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { unwrap } from '../../api/problem';
import type { BotCreate } from '../../api/types';
import { useDebounced } from '../../lib/useDebounced';

const DEBOUNCE_MS = 350;

/** The API's plan summary of what the user typed, asked once typing pauses. */
export function usePlanPreview(body: BotCreate | null, referencePrice: number | null) {
  const api = useApi();
  const request = body ? { ...body, reference_price: referencePrice ?? undefined } : null;
  const settled = useDebounced(request, DEBOUNCE_MS);
  return useQuery({
    queryKey: ['bots', 'preview', settled],
    queryFn: async () => unwrap(await api.POST('/bots/preview', { body: settled as BotCreate })),
    enabled: settled !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
