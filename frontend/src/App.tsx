import { lazy, Suspense } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAuth } from './auth/RequireAuth';
import { CallbackPage } from './pages/CallbackPage';
import { Loading } from './components/Loading';
import DashboardPage from './pages/dashboard/DashboardPage';

// The dashboard, where a signed-in user lands, is in the first load: a lazy page costs a
// suspended render (and React's reveal throttling) before its queries even start. Every other
// page is its own chunk.
const OnboardingPage = lazy(() => import('./pages/onboarding/OnboardingPage'));
const WizardPage = lazy(() => import('./pages/wizard/WizardPage'));
const RunPage = lazy(() => import('./pages/run/RunPage'));
const AccountPage = lazy(() => import('./pages/account/AccountPage'));
const DexPage = lazy(() => import('./pages/dex/DexPage'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

function page(element: React.ReactNode) {
  return <Suspense fallback={<Loading what="the page" />}>{element}</Suspense>;
}

const router = createBrowserRouter([
  { path: '/callback', element: <CallbackPage /> },
  {
    element: (
      <RequireAuth>
        <Layout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'start', element: page(<OnboardingPage />) },
      { path: 'bots/new', element: page(<WizardPage />) },
      { path: 'runs/:runId', element: page(<RunPage />) },
      { path: 'account', element: page(<AccountPage />) },
      { path: 'dex', element: page(<DexPage />) },
      { path: '*', element: page(<NotFoundPage />) },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
