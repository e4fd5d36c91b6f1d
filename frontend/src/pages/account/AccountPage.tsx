import { useAudit, useBilling, useCredentials, useMe } from '../../api/hooks';
import { Loading } from '../../components/Loading';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime } from '../../lib/format';
import { PlanPicker } from '../billing/PlanPicker';
import { KeyList } from '../keys/KeyList';
import { KeysForm } from '../keys/KeysForm';

function AuditTrail() {
  const audit = useAudit();
  if (audit.isLoading) return <Loading what="the audit trail" />;
  if (audit.error) return <ProblemAlert error={audit.error} action="Audit trail" />;
  const entries = audit.data ?? [];
  if (entries.length === 0) return <p className="muted">Nothing recorded yet.</p>;
  return (
    <table className="table">
      <caption className="sr-only">Audit trail, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">What</th>
          <th scope="col">On</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={entry.id}>
            <td>{formatDateTime(entry.at)}</td>
            <td>{entry.actor}</td>
            <td>{entry.action.replaceAll('_', ' ')}</td>
            <td>{entry.target}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function AccountPage() {
  const me = useMe();
  const billing = useBilling();
  const credentials = useCredentials();
  return (
    <section className="page" aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <ProblemAlert error={me.error} />
      {me.data ? (
        <p className="lead">
          {me.data.email} · client {me.data.client_name} · {me.data.client_status}
        </p>
      ) : null}
      <section className="card" aria-labelledby="billing-title">
        <h2 id="billing-title">Plan and billing</h2>
        {billing.data ? (
          <p>
            <strong>{billing.data.plan.name}</strong> plan
            {billing.data.subscription_status ? ` · subscription ${billing.data.subscription_status}` : ''} ·{' '}
            {billing.data.bots} of {billing.data.plan.max_bots} bots · {billing.data.running_bots} of{' '}
            {billing.data.plan.max_running_bots} running
          </p>
        ) : null}
        <p className="muted small">Invoices, payment method and cancellation are on Stripe’s billing page.</p>
        <PlanPicker />
      </section>
      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Exchange keys</h2>
        <ProblemAlert error={credentials.error} />
        <KeyList keys={credentials.data ?? []} deletable />
        <h3>Rotate a key</h3>
        <p className="muted small">Paste the new key under the same label: it replaces the old one once Binance confirms it cannot withdraw.</p>
        <KeysForm submitLabel="Check and replace" />
      </section>
      <section className="card" aria-labelledby="audit-title">
        <h2 id="audit-title">Audit trail</h2>
        <AuditTrail />
      </section>
    </section>
  );
}
