import { useState } from 'react';
import { useAuth } from '../auth/AuthContext';

export function SignInPage({ returnTo = '/' }: { returnTo?: string }) {
  const { signIn } = useAuth();
  const [error, setError] = useState<string | null>(null);
  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true">▦</span> TradeBot
        </p>
        <h1>Grid bots that show you the risk before the profit</h1>
        <ul className="signin-points">
          <li>Paper first: every bot trades 7 days on paper before live.</li>
          <li>Trade-only exchange keys: keys that can withdraw are refused.</li>
          <li>Kill switch always one click away.</li>
        </ul>
        <button
          type="button"
          className="button primary large"
          onClick={() => void signIn(returnTo).catch((e: unknown) => setError(e instanceof Error ? e.message : 'unknown error'))}
        >
          Sign in
        </button>
        {error ? (
          <p className="alert alert-error" role="alert">
            The sign-in service did not answer: {error}
          </p>
        ) : null}
      </div>
    </main>
  );
}
