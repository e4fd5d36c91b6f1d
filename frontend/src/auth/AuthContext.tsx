import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { User, UserManager } from 'oidc-client-ts';

export interface Auth {
  user: User | null;
  /** The session has been read from storage (or found absent). */
  ready: boolean;
  signIn: (returnTo?: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** Finishes the redirect back from the provider; resolves to the page the user wanted. */
  completeSignIn: () => Promise<string>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ manager, children }: { manager: UserManager; children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let alive = true;
    manager
      .getUser()
      .then((stored) => (alive ? setUser(stored && !stored.expired ? stored : null) : undefined))
      .catch(() => undefined) // unreadable storage: signed out
      .finally(() => alive && setReady(true));
    const loaded = (next: User) => setUser(next);
    const gone = () => setUser(null);
    manager.events.addUserLoaded(loaded);
    manager.events.addUserUnloaded(gone);
    manager.events.addAccessTokenExpired(gone);
    return () => {
      alive = false;
      manager.events.removeUserLoaded(loaded);
      manager.events.removeUserUnloaded(gone);
      manager.events.removeAccessTokenExpired(gone);
    };
  }, [manager]);

  const signIn = useCallback(
    (returnTo = '/') => manager.signinRedirect({ state: { returnTo } }),
    [manager],
  );
  const signOut = useCallback(async () => {
    try {
      // Ends the provider's session too (RP-initiated logout), so the next sign-in asks again.
      await manager.signoutRedirect();
    } catch {
      // A provider without an end-session endpoint: forget the tokens here at least.
      await manager.removeUser();
      setUser(null);
    }
  }, [manager]);
  const completeSignIn = useCallback(async () => {
    const signedIn = await manager.signinRedirectCallback();
    setUser(signedIn);
    const state = signedIn.state as { returnTo?: string } | undefined;
    return state?.returnTo ?? '/';
  }, [manager]);

  const value = useMemo(
    () => ({ user, ready, signIn, signOut, completeSignIn }),
    [user, ready, signIn, signOut, completeSignIn],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside <AuthProvider>');
  return auth;
}
