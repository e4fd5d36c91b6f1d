import { ApiProblem } from '../api/problem';

/** What to do next after a refusal, by the API's problem type. */
const nextStep: Record<string, string> = {
  '/problems/unauthenticated': 'Sign in again.',
  '/problems/payment-required': 'Choose a paid plan on the Account page.',
  '/problems/plan-limit': 'Stop or delete a bot, or move to a bigger plan.',
  '/problems/run-not-allowed': 'See the checklist on the Get started page for what is missing.',
  '/problems/key-permissions': 'Create a new key with withdrawals disabled and paste it again.',
  '/problems/rate-limited': 'Wait a moment and try again.',
  '/problems/invalid-grid': 'Widen the range, use fewer lines or invest more.',
  '/problems/validation': 'Correct the fields named and send again.',
  '/problems/bad-input': 'Correct the value and send again.',
};

/** The field a validation error names, as a person reads it (`grid.lower` -> "lower"). */
function fieldName(loc: readonly string[]): string {
  const parts = loc.filter((part) => part !== 'body' && part !== 'query' && part !== 'path');
  return (parts[parts.length - 1] ?? 'request').replace(/_/g, ' ');
}

/**
 * An API refusal as the user reads it: the problem's title, its detail, each invalid field the
 * form does not show beside its input (`fieldsShown`: the API's names of those it does), and
 * the next step.
 */
export function ProblemAlert({ error, action, fieldsShown = [] }: { error: unknown; action?: string; fieldsShown?: readonly string[] }) {
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error : null;
  const title = problem?.body.title ?? 'Something went wrong';
  const detail = problem ? problem.body.detail : error instanceof Error ? error.message : typeof error === 'string' ? error : undefined;
  const hint = problem?.body.type ? nextStep[problem.body.type] : undefined;
  const fields = (problem?.body.errors ?? []).filter((e) => !fieldsShown.includes(e.loc[e.loc.length - 1] ?? ''));
  return (
    <div className="alert alert-error" role="alert">
      <strong>{action ? `${action}: ${title}` : title}</strong>
      {detail && detail !== title && !problem?.body.errors?.length ? <p>{detail}</p> : null}
      {fields.length > 0 ? (
        <ul className="problem-fields">
          {fields.map((e) => (
            <li key={e.loc.join('.')}>
              <span className="problem-field">{fieldName(e.loc)}</span>: {e.msg}
            </li>
          ))}
        </ul>
      ) : null}
      {hint ? <p className="hint">{hint}</p> : null}
    </div>
  );
}
