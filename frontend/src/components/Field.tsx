import { useId, type InputHTMLAttributes, type ReactNode } from 'react';

/** A labelled input with its hint and its error, wired for screen readers. */
export function Field({
  label,
  error,
  hint,
  suffix,
  ...input
}: { label: string; error?: string | undefined; hint?: ReactNode; suffix?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${error ? 'has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <div className="input-wrap">
        <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
        {suffix ? <span className="suffix" aria-hidden="true">{suffix}</span> : null}
      </div>
      {hint ? <p id={hintId} className="field-hint">{hint}</p> : null}
      {error ? <p id={errorId} className="field-error">{error}</p> : null}
    </div>
  );
}
