import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useApi } from '../../api/ApiContext';
import { ApiProblem, unwrap } from '../../api/problem';
import type { GridEditPreview, GridSpec, RunStatus } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Field } from '../../components/Field';
import { Figure, TextFigure } from '../../components/Figure';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatPrice, formatQty, plural } from '../../lib/format';
import { validateRange, type RangeValues } from '../../lib/gridForm';

const EDIT_FIELDS = ['lower', 'upper', 'lines'] as const;

function OrderList({ caption, orders }: { caption: string; orders: readonly { side: string; line: number; price: number; qty: number }[] }) {
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Side</th>
          <th scope="col">Line</th>
          <th scope="col" className="num">Price</th>
          <th scope="col" className="num">Quantity</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((order) => (
          <tr key={`${order.side}-${order.line}-${order.price}`}>
            <td className={order.side === 'buy' ? 'gain' : 'loss'}>{order.side === 'buy' ? 'Buy' : 'Sell'}</td>
            <td>{order.line}</td>
            <td className="num">{formatPrice(order.price)}</td>
            <td className="num">{formatQty(order.qty)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What the edit does, as the API computed it from the run's state. */
export function GridDiff({ diff, base }: { diff: GridEditPreview; base: string }) {
  return (
    <div className="grid-diff">
      <dl className="figures">
        <TextFigure label="Orders cancelled">{diff.cancel.length}</TextFigure>
        <TextFigure label="Orders placed">{diff.place.length}</TextFigure>
        <Figure label="Investment before" value={diff.investment_before} />
        <Figure label="Investment after" value={diff.investment_after} />
        <Figure label="Capital change" value={diff.capital_change} kind="signed-usd" />
        <TextFigure label={`${base} bought at market`}>
          {diff.base_to_buy > 0 ? `${formatQty(diff.base_to_buy)} ${base}` : 'none'}
        </TextFigure>
        <TextFigure label="Re-centred at">{formatPrice(diff.reference_price)}</TextFigure>
      </dl>
      <div className="two-col">
        <OrderList caption={`${plural(diff.cancel.length, 'order')} to cancel`} orders={diff.cancel} />
        <OrderList caption={`${plural(diff.place.length, 'order')} to place`} orders={diff.place} />
      </div>
    </div>
  );
}

/**
 * Change the range or lines of a running grid: the API returns the diff (orders cancelled and
 * placed, capital change) to confirm, then records the edit; the run applies it at its next tick
 * without stopping.
 */
export function EditGridPanel({
  run,
  grid,
  applied,
  onApplied,
}: {
  run: RunStatus;
  /** The grid the run trades now (its last applied edit's), where the form starts. */
  grid: Pick<GridSpec, 'lower' | 'upper' | 'lines'>;
  /** The run's working orders already sit on the edited grid. */
  applied: boolean;
  onApplied: (edit: GridEditPreview) => void;
}) {
  const api = useApi();
  const [values, setValues] = useState<RangeValues>({ lower: String(grid.lower), upper: String(grid.upper), lines: String(grid.lines) });
  const [confirming, setConfirming] = useState(false);
  const errors = validateRange(values);
  const valid = Object.keys(errors).length === 0;
  const body = { lower: Number(values.lower), upper: Number(values.upper), lines: Number(values.lines) };
  const path = { run_id: run.id };
  const preview = useMutation({
    mutationFn: async () => unwrap(await api.POST('/runs/{run_id}/grid/preview', { params: { path }, body })),
  });
  const apply = useMutation({
    mutationFn: async () => unwrap(await api.POST('/runs/{run_id}/grid', { params: { path }, body })),
    onSuccess: (accepted) => {
      setConfirming(false);
      onApplied(accepted.preview);
    },
  });
  const set = (key: keyof RangeValues) => (event: React.ChangeEvent<HTMLInputElement>) => {
    setValues({ ...values, [key]: event.target.value });
    preview.reset(); // a diff of other values must not be applied by mistake
    apply.reset();
  };
  const [base = '', quote = 'USDT'] = run.pair.split('/');
  // The API's field errors of a refused edit stand beside their inputs until the values change.
  const refused = preview.error ?? apply.error;
  const server = refused instanceof ApiProblem ? refused.fieldErrors() : {};
  const shown = (field: keyof RangeValues) => errors[field] ?? server[field];

  return (
    <section className="card" aria-labelledby="edit-grid-title">
      <h2 id="edit-grid-title">Edit the running grid</h2>
      <p className="muted small">Change the range or the lines without stopping the bot. You see what changes before anything does.</p>
      <form
        className="field-row edit-grid-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) preview.mutate();
        }}
      >
        <Field label="New lower price" inputMode="decimal" value={values.lower} onChange={set('lower')} error={shown('lower')} suffix={quote} />
        <Field label="New upper price" inputMode="decimal" value={values.upper} onChange={set('upper')} error={shown('upper')} suffix={quote} />
        <Field label="New grid lines" inputMode="numeric" value={values.lines} onChange={set('lines')} error={shown('lines')} />
        <button type="submit" className="button secondary" disabled={!valid || preview.isPending}>
          Preview changes
        </button>
      </form>
      <ProblemAlert error={preview.error} action="This edit cannot be applied" fieldsShown={EDIT_FIELDS} />
      {preview.data ? (
        <>
          <GridDiff diff={preview.data} base={base} />
          <button type="button" className="button primary" onClick={() => setConfirming(true)} disabled={apply.isSuccess}>
            Apply to the running bot
          </button>
        </>
      ) : null}
      {apply.isSuccess ? (
        <p className="alert alert-success" role="status">
          {applied
            ? 'Edit applied: the bot trades the new grid.'
            : `Edit ${apply.data.status}: the bot moves to the new grid at its next tick.`}
        </p>
      ) : null}
      <ProblemAlert error={apply.error} action="Edit refused" fieldsShown={EDIT_FIELDS} />
      <ConfirmDialog
        open={confirming && preview.data !== undefined}
        title="Apply this grid edit?"
        confirmLabel="Apply edit"
        busy={apply.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => apply.mutate()}
      >
        {preview.data ? (
          <p>
            The bot keeps running. At its next tick it cancels {plural(preview.data.cancel.length, 'order')}, places{' '}
            {preview.data.place.length}
            {preview.data.base_to_buy > 0 ? ` and buys ${formatQty(preview.data.base_to_buy)} ${base} at market` : ''}. Everything
            the run holds is invested in the new grid.
          </p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
