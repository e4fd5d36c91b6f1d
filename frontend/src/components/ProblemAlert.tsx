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
};

/** An API refusal as the user reads it: the problem's title, its detail and the next step. */
export function ProblemAlert({ error, action }: { error: unknown; action?: string }) {
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error : null;
  const title = problem?.body.title ?? 'Something went wrong';
  const detail = problem ? problem.body.detail : error instanceof Error ? error.message : typeof error === 'string' ? error : undefined;
  const hint = problem?.body.type ? nextStep[problem.body.type] : undefined;
  return (
    <div className="alert alert-error" role="alert">
      <strong>{action ? `${action}: ${title}` : title}</strong>
      {detail && detail !== title ? <p>{detail}</p> : null}
      {hint ? <p className="hint">{hint}</p> : null}
    </div>
  );
}
