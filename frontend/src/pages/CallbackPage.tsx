import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';

/** Where the provider sends the browser back with the code; exchanged once, then away. */
export function CallbackPage() {
  const { completeSignIn } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return; // React's development double effect: the code is single-use
    started.current = true;
    completeSignIn()
      .then((returnTo) => navigate(returnTo, { replace: true }))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [completeSignIn, navigate]);

  return (
    <main id="main" className="signin">
      {error ? (
        <div className="alert alert-error" role="alert">
          <strong>Sign-in failed</strong>
          <p>{error}</p>
          <a href="/">Try again</a>
        </div>
      ) : (
        <p role="status">Signing you in…</p>
      )}
    </main>
  );
}
