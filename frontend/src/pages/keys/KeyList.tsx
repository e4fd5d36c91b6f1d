import { useState } from 'react';
import { useDeleteKeys } from '../../api/hooks';
import type { Credential } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime } from '../../lib/format';

/** What the exchange said the key may do (`can_*` flags of the stored check). */
function permissionList(permissions: Credential['permissions']): string {
  if (permissions.checked !== true) return 'not checked with the exchange';
  const flags = Object.entries(permissions).filter(([name]) => name.startsWith('can_'));
  return flags.map(([name, allowed]) => `${name.slice(4).replaceAll('_', ' ')}: ${allowed === true ? 'yes' : 'no'}`).join(', ');
}

/** Stored keys as the API shows them: masked, with what the exchange said they may do;
 * `deletable` adds a delete button (asked first). */
export function KeyList({ keys, deletable = false }: { keys: readonly Credential[]; deletable?: boolean }) {
  const remove = useDeleteKeys();
  const [asking, setAsking] = useState<Credential | null>(null);
  if (keys.length === 0) return <p className="muted">No key stored yet.</p>;
  return (
    <>
      <table className="table">
        <caption className="sr-only">Stored exchange keys</caption>
        <thead>
          <tr>
            <th scope="col">Exchange</th>
            <th scope="col">Label</th>
            <th scope="col">Key</th>
            <th scope="col">Status</th>
            <th scope="col">May</th>
            <th scope="col">Stored</th>
            {deletable ? <th scope="col"><span className="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id}>
              <td>{key.exchange}</td>
              <td>{key.label}</td>
              <td>
                <code>{key.key_id}</code>
              </td>
              <td>{key.status}</td>
              <td>{permissionList(key.permissions)}</td>
              <td>{formatDateTime(key.rotated_at ?? key.created_at)}</td>
              {deletable ? (
                <td>
                  <button type="button" className="button ghost" onClick={() => setAsking(key)} aria-label={`Delete key ${key.label} (${key.exchange})`}>
                    Delete
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <ProblemAlert error={remove.error} action="Key not deleted" />
      <ConfirmDialog
        open={asking !== null}
        title="Delete this key?"
        confirmLabel="Delete key"
        danger
        busy={remove.isPending}
        onCancel={() => setAsking(null)}
        onConfirm={() =>
          asking && remove.mutate({ exchange: asking.exchange, label: asking.label }, { onSuccess: () => setAsking(null) })
        }
      >
        <p>
          TradeBot forgets the {asking?.exchange} key <code>{asking?.key_id}</code> ({asking?.label}). Bots cannot trade
          live on {asking?.exchange} until you paste a key again. A live bot trading with it must be stopped first.
        </p>
        <p>To be sure the key can never be used again, also delete it in your exchange’s API management.</p>
      </ConfirmDialog>
    </>
  );
}
