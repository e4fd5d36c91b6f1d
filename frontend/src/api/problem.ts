/**
 * An RFC 9457 problem body, as every API error is sent (`application/problem+json`). The API's
 * OpenAPI does not declare it (FastAPI lists only its default 422 schema), so it is read here
 * with the standard's own fields plus the `errors` list of validation problems.
 */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: { loc: string[]; msg: string }[];
}

export class ApiProblem extends Error {
  readonly status: number;
  readonly body: ProblemBody;

  constructor(status: number, body: ProblemBody) {
    super(body.detail ?? body.title ?? `request failed (${status})`);
    this.name = 'ApiProblem';
    this.status = status;
    this.body = body;
  }

  /** Field name -> message, for forms: the last part of each validation error's location. */
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
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiProblem(result.response.status, asProblemBody(result.error, result.response.status));
  }
  return result.data as T;
}

export function isProblem(error: unknown, status?: number): error is ApiProblem {
  return error instanceof ApiProblem && (status === undefined || error.status === status);
}
