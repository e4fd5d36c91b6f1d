import { useState, type FormEvent } from 'react';
import { useStoreKeys } from '../../api/hooks';
import { ApiProblem } from '../../api/problem';
import { Field } from '../../components/Field';
import { CONTROL_CHARACTERS } from '../../lib/gridForm';
import { ProblemAlert } from '../../components/ProblemAlert';

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Paste an exchange key: sent once over TLS to the API, which checks and seals it; the fields
 * are cleared after, and the browser never stores it (no autocomplete, state only).
 */
export function KeysForm({ submitLabel = 'Check and save keys', onSaved }: { submitLabel?: string; onSaved?: () => void }) {
  const store = useStoreKeys();
  const [apiKey, setApiKey] = useState('');
  const [apiSecret, setApiSecret] = useState('');
  const [label, setLabel] = useState('main');
  const [touched, setTouched] = useState(false);
  const errors = {
    apiKey: !apiKey.trim() ? 'Paste the API key.' : CONTROL_CHARACTERS.test(apiKey.trim()) ? 'The key has invisible characters: copy it again.' : undefined,
    apiSecret: !apiSecret.trim() ? 'Paste the secret key.' : CONTROL_CHARACTERS.test(apiSecret.trim()) ? 'The secret has invisible characters: copy it again.' : undefined,
    label: LABEL.test(label) ? undefined : 'Letters, digits, dot, dash or underscore (up to 64).',
  };
  const serverFields = store.error instanceof ApiProblem ? store.error.fieldErrors() : {};
  const shown = (field: keyof typeof errors, apiName: string) => (touched ? errors[field] : undefined) ?? serverFields[apiName];

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (errors.apiKey || errors.apiSecret || errors.label) return;
    store.mutate(
      { exchange: 'binance', api_key: apiKey.trim(), api_secret: apiSecret.trim(), label },
      {
        onSuccess: () => {
          setApiKey('');
          setApiSecret('');
          setTouched(false);
          onSaved?.();
        },
      },
    );
  }

  return (
    <form className="keys-form" onSubmit={submit} noValidate aria-label="Binance API keys">
      <Field
        label="API key"
        value={apiKey}
        onChange={(e) => setApiKey(e.target.value)}
        error={shown('apiKey', 'api_key')}
        autoComplete="off"
        spellCheck={false}
      />
      <Field
        label="Secret key"
        type="password"
        value={apiSecret}
        onChange={(e) => setApiSecret(e.target.value)}
        error={shown('apiSecret', 'api_secret')}
        autoComplete="new-password"
        spellCheck={false}
      />
      <Field label="Label" value={label} onChange={(e) => setLabel(e.target.value)} error={shown('label', 'label')} hint="Saving a key under an existing label replaces (rotates) it." />
      <button type="submit" className="button primary" disabled={store.isPending}>
        {store.isPending ? 'Asking Binance what the key may do…' : submitLabel}
      </button>
      <ProblemAlert error={store.error} action="Key not stored" />
      {store.isSuccess ? (
        <p className="alert alert-success" role="status">
          Key {store.data.credentials.key_id} stored{store.data.replaced ? ' (the previous one was replaced)' : ''}: it can trade
          and cannot withdraw.
        </p>
      ) : null}
    </form>
  );
}
