import type { Fill, Guard, Order } from '../../api/types';
import { formatDateTime, formatPrice, formatQty, formatUsd } from '../../lib/format';

const SHOWN_FILLS = 100;

/** Grid lines count from 0 at the lower price; the entry (market) order has no line (-1). */
function gridLine(line: number): string {
  return line < 0 ? 'entry' : String(line);
}

export function FillsTable({ fills, total, quote }: { fills: readonly Fill[]; total: number; quote: string }) {
  const newest = fills.slice(-SHOWN_FILLS).reverse();
  return (
    <table className="table" aria-describedby="fills-caption">
      <caption id="fills-caption">
        {fills.length === 0 ? 'No fills yet' : `Newest ${newest.length} of ${Math.max(total, fills.length)} fills`}
      </caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Side</th>
          <th scope="col">Line</th>
          <th scope="col" className="num">Price ({quote})</th>
          <th scope="col" className="num">Quantity</th>
          <th scope="col" className="num">Value</th>
          <th scope="col" className="num">Fee</th>
        </tr>
      </thead>
      <tbody>
        {newest.map((fill) => (
          <tr key={fill.trade_id}>
            <td>{formatDateTime(fill.ts)}</td>
            <td className={fill.side === 'buy' ? 'gain' : 'loss'}>{fill.side === 'buy' ? 'Buy' : 'Sell'}</td>
            <td>{gridLine(fill.line)}</td>
            <td className="num">{formatPrice(fill.price)}</td>
            <td className="num">{formatQty(fill.qty)}</td>
            <td className="num">{formatUsd(fill.price * fill.qty)}</td>
            <td className="num">
              {formatQty(fill.fee)} {fill.fee_currency}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OrdersTable({ orders, quote }: { orders: readonly Order[]; quote: string }) {
  const sorted = [...orders].sort((a, b) => b.price - a.price);
  return (
    <table className="table">
      <caption>{orders.length === 0 ? 'No open orders' : `${orders.length} open orders, highest price first`}</caption>
      <thead>
        <tr>
          <th scope="col">Side</th>
          <th scope="col">Line</th>
          <th scope="col" className="num">Price ({quote})</th>
          <th scope="col" className="num">Quantity</th>
          <th scope="col" className="num">Filled</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((order) => (
          <tr key={order.client_order_id}>
            <td className={order.side === 'buy' ? 'gain' : 'loss'}>{order.side === 'buy' ? 'Buy' : 'Sell'}</td>
            <td>{gridLine(order.line)}</td>
            <td className="num">{formatPrice(order.price)}</td>
            <td className="num">{formatQty(order.qty)}</td>
            <td className="num">{formatQty(order.filled_qty)}</td>
            <td>{order.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function GuardEvents({ guards }: { guards: readonly Guard[] }) {
  if (guards.length === 0) return <p className="muted">No guard has tripped on this run.</p>;
  return (
    <ul className="guard-list">
      {guards.map((guard) => (
        <li key={guard.id} className={guard.active ? 'loss' : 'muted'}>
          <strong>{guard.guard.replaceAll('_', ' ')}</strong> — {guard.reason} · tripped {formatDateTime(guard.tripped_at)}
          {guard.active ? ' · active' : guard.reset_at ? ` · reset ${formatDateTime(guard.reset_at)} by ${guard.reset_by ?? 'operator'}` : ''}
        </li>
      ))}
    </ul>
  );
}
