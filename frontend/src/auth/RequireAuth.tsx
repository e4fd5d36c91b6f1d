import type { ReactNode } from 'react';
import { useLocation } from 'react-router';
import { useAuth } from './AuthContext';
import { SignInPage } from '../pages/SignInPage';

/** The page when signed in, else the sign-in page (which brings the user back here). */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return null;
  if (!user) return <SignInPage returnTo={location.pathname + location.search} />;
  return <>{children}</>;
}
