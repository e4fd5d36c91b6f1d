import type { Credential } from '../../api/types';
import { formatDateTime } from '../../lib/format';

function permissionList(permissions: Credential['permissions']): string {
  const granted = Object.entries(permissions)
    .filter(([, allowed]) => allowed === true)
    .map(([name]) => name.replace(/^can_/, '').replaceAll('_', ' '));
  return granted.length ? granted.join(', ') : 'none reported';
}

/** Stored keys as the API shows them: masked, with what the exchange said they may do. */
export function KeyList({ keys }: { keys: readonly Credential[] }) {
  if (keys.length === 0) return <p className="muted">No key stored yet.</p>;
  return (
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
          </tr>
        ))}
      </tbody>
    </table>
  );
}
