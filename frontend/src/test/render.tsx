import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';
import { ApiProvider } from '../api/ApiContext';
import { createApiClient } from '../api/client';

export interface Call {
  method: string;
  path: string;
  body: unknown;
  authorization: string | null;
}

type Handler = (call: Call) => { status?: number; body?: unknown; contentType?: string } | undefined;

/**
 * A fetch stub at the network edge: `handler` answers each request (method + path) as the API
 * would; an unanswered request is a 404 problem. Every call is recorded.
 */
export function stubApi(handler: Handler) {
  const calls: Call[] = [];
  const fetchStub = vi.fn(async (input: Request) => {
    const url = new URL(input.url);
    const text = await input.text();
    const call: Call = {
      method: input.method,
      path: url.pathname + url.search,
      body: text ? JSON.parse(text) : undefined,
      authorization: input.headers.get('Authorization'),
    };
    calls.push(call);
    const answer = handler(call) ?? { status: 404, body: { type: '/problems/not-found', title: 'Not found', status: 404 } };
    const status = answer.status ?? 200;
    const contentType = answer.contentType ?? (status >= 400 ? 'application/problem+json' : 'application/json');
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status, headers: { 'Content-Type': contentType } });
  });
  vi.stubGlobal('fetch', fetchStub);
  return calls;
}

/** `ui` inside the providers the pages need, talking to the stubbed API. */
export function renderWithApi(ui: ReactElement, { route = '/' }: { route?: string } = {}) {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const api = createApiClient('http://api.test', () => 'test-token');
  return render(
    <QueryClientProvider client={queries}>
      <ApiProvider client={api}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </ApiProvider>
    </QueryClientProvider>,
  );
}
