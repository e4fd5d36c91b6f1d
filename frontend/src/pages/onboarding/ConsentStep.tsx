import { useId, useState } from 'react';
import { useAcceptConsent, useConsent } from '../../api/hooks';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime } from '../../lib/format';

/**
 * The risk disclosure and terms live trading needs accepted: each current text shown in full
 * (scrollable, keyboard-reachable), then accepted explicitly; accepted versions say when.
 */
export function ConsentStep() {
  const consent = useConsent();
  const accept = useAcceptConsent();
  const [agreed, setAgreed] = useState(false);
  const checkboxId = useId();
  if (consent.isLoading) return <Loading what="the risk disclosure" />;
  if (consent.error || !consent.data) return <ProblemAlert error={consent.error} action="The risk disclosure could not be loaded" />;
  const { documents, missing } = consent.data;
  return (
    <div className="consent">
      {documents.map((doc) => (
        <section key={doc.key} aria-label={doc.title}>
          <h3>
            {doc.title} <span className="muted small">version {doc.version}</span>
          </h3>
          {/* A focusable region: keyboard users scroll the whole text too. */}
          <div className="consent-text" tabIndex={0} role="region" aria-label={`${doc.title}, full text`}>
            {doc.text}
          </div>
          <p className="small">
            {doc.accepted_at ? (
              <span className="gain">Accepted {formatDateTime(doc.accepted_at)}</span>
            ) : (
              <span className="muted">Not accepted yet</span>
            )}
          </p>
        </section>
      ))}
      {missing.length > 0 ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (agreed) accept.mutate(missing, { onSuccess: () => setAgreed(false) });
          }}
        >
          <p className="checkbox">
            <input id={checkboxId} type="checkbox" checked={agreed} onChange={(e) => setAgreed(e.target.checked)} />
            <label htmlFor={checkboxId}>I have read the texts above and accept them for live trading.</label>
          </p>
          <button type="submit" className="button primary" disabled={!agreed || accept.isPending}>
            Accept
          </button>
        </form>
      ) : (
        <p className="gain">Everything is accepted.</p>
      )}
      <ProblemAlert error={accept.error} action="Not accepted" />
    </div>
  );
}
