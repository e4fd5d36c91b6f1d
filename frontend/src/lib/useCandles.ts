import { useQuery } from '@tanstack/react-query';
import { useApi } from '../api/ApiContext';
import { unwrap } from '../api/problem';

const REFRESH_MS = 15_000;

/** The pair's last one-minute candles (the API's candle cache / exchange), refreshed now and
 * then so the chart moves with the market. */
export function useCandles(pair: string, limit = 500, refetchInterval: number | false = REFRESH_MS) {
  const api = useApi();
  return useQuery({
    queryKey: ['candles', pair, limit],
    queryFn: async () =>
      unwrap(await api.GET('/candles', { params: { query: { pair, timeframe: '1m', limit } } })).candles,
    refetchInterval,
    staleTime: 10_000,
  });
}
