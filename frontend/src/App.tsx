import { lazy, Suspense } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { Layout } from './components/Layout';
import { RequireAuth } from './auth/RequireAuth';
import { CallbackPage } from './pages/CallbackPage';
import { Loading } from './components/Loading';

// Every page is its own chunk: the first load carries only the shell and the sign-in.
const DashboardPage = lazy(() => import('./pages/dashboard/DashboardPage'));
const OnboardingPage = lazy(() => import('./pages/onboarding/OnboardingPage'));
const WizardPage = lazy(() => import('./pages/wizard/WizardPage'));
const RunPage = lazy(() => import('./pages/run/RunPage'));
const AccountPage = lazy(() => import('./pages/account/AccountPage'));
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
      { index: true, element: page(<DashboardPage />) },
      { path: 'start', element: page(<OnboardingPage />) },
      { path: 'bots/new', element: page(<WizardPage />) },
      { path: 'runs/:runId', element: page(<RunPage />) },
      { path: 'account', element: page(<AccountPage />) },
      { path: '*', element: page(<NotFoundPage />) },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
