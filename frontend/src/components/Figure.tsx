import { formatSignedPct, formatSignedUsd, formatUsd, tone } from '../lib/format';

/** A labelled figure; `signed` figures are P&L: a sign, and green or red. */
export function Figure({
  label,
  value,
  kind = 'usd',
  hint,
}: {
  label: string;
  value: number | null | undefined;
  kind?: 'usd' | 'signed-usd' | 'signed-pct' | 'count' | 'text';
  hint?: string;
}) {
  let text = '—';
  let colour = 'flat';
  if (value !== null && value !== undefined && Number.isFinite(value)) {
    if (kind === 'usd') text = formatUsd(value);
    else if (kind === 'signed-usd') [text, colour] = [formatSignedUsd(value), tone(value)];
    else if (kind === 'signed-pct') [text, colour] = [formatSignedPct(value), tone(value)];
    else text = value.toLocaleString('en-US');
  }
  return (
    <div className="figure">
      <dt>{label}</dt>
      <dd className={`figure-value ${colour}`} title={hint}>
        {text}
      </dd>
    </div>
  );
}

export function TextFigure({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="figure">
      <dt>{label}</dt>
      <dd className="figure-value">{children}</dd>
    </div>
  );
}
