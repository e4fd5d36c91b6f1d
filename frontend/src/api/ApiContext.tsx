import { createContext, useContext, useRef, useState, type ReactNode } from 'react';
import { useAuth } from '../auth/AuthContext';
import { createApiClient, type ApiClient } from './client';

const ApiContext = createContext<ApiClient | null>(null);

export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ApiContext.Provider value={client}>{children}</ApiContext.Provider>;
}

/** The API client of the signed-in user: each request reads the current access token, so a
 * silent renewal takes effect without rebuilding the client (or refetching anything). */
export function SignedInApiProvider({ baseUrl, children }: { baseUrl: string; children: ReactNode }) {
  const { user } = useAuth();
  const token = useRef<string | undefined>(undefined);
  token.current = user?.access_token;
  const [client] = useState(() => createApiClient(baseUrl, () => token.current));
  return <ApiProvider client={client}>{children}</ApiProvider>;
}

export function useApi(): ApiClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi outside <ApiProvider>');
  return client;
}
