import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { readConfig } from './config';
import { createUserManager } from './auth/userManager';
import { AuthProvider } from './auth/AuthContext';
import { SignedInApiProvider } from './api/ApiContext';
import { isProblem } from './api/problem';
import { App } from './App';
import './styles.css';

const config = readConfig();

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (4xx) will not change by asking again; a network blip may.
      retry: (failures, error) => failures < 2 && !(isProblem(error) && error.status < 500),
      staleTime: 5_000,
    },
  },
});

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <AuthProvider manager={createUserManager(config)}>
        <SignedInApiProvider baseUrl={config.apiUrl}>
          <App />
        </SignedInApiProvider>
      </AuthProvider>
    </QueryClientProvider>
  </StrictMode>,
);
