import { Field } from '../../components/Field';
import type { GridFormErrors, GridFormValues } from '../../lib/gridForm';

/** The pairs with offline exchange rules in the API (tick, lot, minimum notional). */
export const PAIRS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'] as const;

export function GridForm({
  values,
  errors,
  onChange,
}: {
  values: GridFormValues;
  errors: GridFormErrors;
  onChange: (values: GridFormValues) => void;
}) {
  const set = <K extends keyof GridFormValues>(key: K) => (value: GridFormValues[K]) => onChange({ ...values, [key]: value });
  const quote = values.pair.split('/')[1] ?? 'USDT';
  return (
    <fieldset className="grid-form">
      <legend>Grid settings</legend>
      <Field label="Bot name" value={values.name} error={errors.name} onChange={(e) => set('name')(e.target.value)} maxLength={100} />
      <div className="field">
        <label htmlFor="pair">Pair</label>
        <select id="pair" value={values.pair} onChange={(e) => set('pair')(e.target.value)}>
          {PAIRS.map((pair) => (
            <option key={pair}>{pair}</option>
          ))}
        </select>
      </div>
      <div className="field-row">
        <Field
          label="Lower price"
          inputMode="decimal"
          value={values.lower}
          error={errors.lower}
          suffix={quote}
          onChange={(e) => set('lower')(e.target.value)}
        />
        <Field
          label="Upper price"
          inputMode="decimal"
          value={values.upper}
          error={errors.upper}
          suffix={quote}
          onChange={(e) => set('upper')(e.target.value)}
        />
      </div>
      <div className="field-row">
        <Field
          label="Grid lines"
          inputMode="numeric"
          value={values.lines}
          error={errors.lines}
          hint="2 to 500; lines − 1 orders rest on the book."
          onChange={(e) => set('lines')(e.target.value)}
        />
        <Field
          label="Investment"
          inputMode="decimal"
          value={values.investment}
          error={errors.investment}
          suffix={quote}
          hint="The capital the grid may use, split over its cells."
          onChange={(e) => set('investment')(e.target.value)}
        />
      </div>
      <fieldset className="radio-group">
        <legend>Spacing</legend>
        <label>
          <input type="radio" name="spacing" value="geometric" checked={values.spacing === 'geometric'} onChange={() => set('spacing')('geometric')} />
          Geometric <span className="muted">(same % between lines)</span>
        </label>
        <label>
          <input type="radio" name="spacing" value="arithmetic" checked={values.spacing === 'arithmetic'} onChange={() => set('spacing')('arithmetic')} />
          Arithmetic <span className="muted">(same price step)</span>
        </label>
      </fieldset>
    </fieldset>
  );
}
