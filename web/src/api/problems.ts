// RFC 9457 problem documents as the app shows them: a stable code, and a sentence for people.

export interface Problem {
  status: number;
  code: string;
  detail: string;
  title?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  readonly detail: string;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = "ApiError";
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.detail = problem.detail;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The ApiError for an answer with `status` and (maybe) a problem document `body`. */
export function problemFrom(status: number, body: unknown): ApiError {
  if (isRecord(body) && typeof body.code === "string") {
    const detail = typeof body.detail === "string" && body.detail ? body.detail : String(body.title ?? body.code);
    return new ApiError({ ...body, status, code: body.code, detail });
  }
  return new ApiError({ status, code: `HTTP_${status}`, detail: `the server answered ${status}` });
}

/** What to tell a person about a failed action, by what went wrong rather than by status. */
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  switch (error.status) {
    case 0:
      return `Cannot reach the server: ${error.detail}`;
    case 401:
      return "Your session has ended: log in again.";
    case 403:
      return error.code === "CSRF_FAILED"
        ? "The page's session token is stale: reload the page and try again."
        : `You may not do this (${String(error.problem.permission ?? error.code)}).`;
    case 404:
      return `Not found: ${error.detail}`;
    case 409:
      return `This changed meanwhile: ${error.detail} Reload to see where it stands now.`;
    default:
      return error.detail;
  }
}
