import type { components } from './schema';

/**
 * An RFC 9457 problem body, as every API error is sent (`application/problem+json`): the API's
 * OpenAPI declares it (`ProblemDetail`, with the `errors` list of a validation problem) on every
 * operation's 4xx and 5xx answers, so the generated client types `error` as this. Every field is
 * optional here: a body from something in between (a proxy's 502) may have none of them.
 */
export type ProblemDetail = components['schemas']['ProblemDetail'];
export type ProblemBody = Partial<ProblemDetail>;

export class ApiProblem extends Error {
  readonly status: number;
  readonly body: ProblemBody;

  constructor(status: number, body: ProblemBody) {
    super(body.detail ?? body.title ?? `request failed (${status})`);
    this.name = 'ApiProblem';
    this.status = status;
    this.body = body;
  }

  /** Field name -> message, for forms: the last part of each validation error's location (the
   * first message of a field wins). */
  fieldErrors(): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const error of this.body.errors ?? []) {
      const field = error.loc[error.loc.length - 1];
      if (field && !(field in fields)) fields[field] = error.msg;
    }
    return fields;
  }
}

function asProblemBody(value: unknown, status: number): ProblemBody {
  if (value && typeof value === 'object') return value;
  return { status, title: typeof value === 'string' && value ? value : `HTTP ${status}` };
}

/** `data` of an openapi-fetch answer, or an `ApiProblem` thrown with its body. */
export function unwrap<T>(result: { data?: T; error?: ProblemDetail; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiProblem(result.response.status, asProblemBody(result.error, result.response.status));
  }
  return result.data as T;
}

export function isProblem(error: unknown, status?: number): error is ApiProblem {
  return error instanceof ApiProblem && (status === undefined || error.status === status);
}
