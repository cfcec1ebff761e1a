// Every error response is application/problem+json (RFC 9457). Connect codes from the services map
// to HTTP statuses in one table; a client mistake is never a 500, internals never leak.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { STATUS_CODES } from "node:http";
import type { Logger } from "../lib/log.ts";
import { PROBLEM_TYPES } from "../lib/errors.ts";
import { PROBLEM_TYPE_HEADER, RATE_LIMITED_HEADER } from "../lib/rpc/errors.ts";

export type FieldError = { field: string; message: string };

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id?: string;
  errors?: FieldError[];
};

/** problemTypeUri is the `type` of a problem a client tells apart by more than its status (README: Problem types). */
export const problemTypeUri = (name: string) => `/problems/${name}`;
const KNOWN_TYPES = new Set<string>(Object.values(PROBLEM_TYPES));

/** ProblemError is thrown by gateway code for a response it knows exactly. */
export class ProblemError extends Error {
  override name = "ProblemError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

const RETRY_AFTER_SECONDS = "5";
export const REALM = "bun-api-starter";

// code → [status, detail shown to the client: undefined keeps the service's message]
const CODE_TABLE: Partial<Record<Code, [ContentfulStatusCode, string?]>> = {
  [Code.InvalidArgument]: [422],
  [Code.NotFound]: [404],
  [Code.AlreadyExists]: [409],
  [Code.FailedPrecondition]: [409],
  [Code.Unauthenticated]: [401],
  [Code.PermissionDenied]: [403],
  // The services answer ResourceExhausted when they are saturated (e.g. the password-hashing bound).
  [Code.ResourceExhausted]: [503, "the service is at capacity; retry shortly"],
  [Code.Unavailable]: [503, "a backing service is unavailable; retry shortly"],
  [Code.DeadlineExceeded]: [503, "a backing service did not answer in time; retry shortly"],
  [Code.Aborted]: [409],
};

/** problemResponse renders a problem+json response. */
export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string>; type?: string } = {},
): Response {
  const body: Problem = {
    type: extra.type ?? "about:blank",
    title: STATUS_CODES[status] ?? "Error",
    status,
    detail,
    instance: new URL(c.req.url).pathname,
    request_id: c.get("requestId"),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
  for (const [name, value] of Object.entries(extra.headers ?? {})) c.header(name, value);
  if (status === 503 && !extra.headers?.["Retry-After"]) c.header("Retry-After", RETRY_AFTER_SECONDS);
  return c.body(JSON.stringify(body), status, { "Content-Type": "application/problem+json" });
}

/** onError creates the app's one error handler: every thrown value becomes a problem response. */
export function onError(log: Logger): ErrorHandler {
  return function onError(error, c) {
    if (error instanceof ProblemError) return problemResponse(c, error.status, error.detail, error.extra);
    if (error instanceof HTTPException) {
      // Hono's own: malformed JSON (400), body too large (413), …
      const detail = error.status === 413 ? "the request body is too large" : error.message || (STATUS_CODES[error.status] ?? "error");
      return problemResponse(c, error.status as ContentfulStatusCode, detail);
    }
    if (error instanceof ConnectError) {
      const entry = CODE_TABLE[error.code];
      if (entry) {
        const [status, detail] = entry;
        const headers: Record<string, string> = status === 401 ? { "WWW-Authenticate": `Bearer realm="${REALM}"` } : {};
        const retryAfter = error.metadata.get("retry-after");
        const validRetryAfter = retryAfter && /^\d{1,5}$/.test(retryAfter) ? retryAfter : undefined;
        // The auth service's own limits (per address, per account): the client is over a limit.
        if (error.code === Code.ResourceExhausted && error.metadata.get(RATE_LIMITED_HEADER)) {
          return problemResponse(c, 429, error.rawMessage, { headers: { "Retry-After": validRetryAfter ?? "1" } });
        }
        if (status === 503 && validRetryAfter) headers["Retry-After"] = validRetryAfter;
        const named = error.metadata.get(PROBLEM_TYPE_HEADER);
        const type = named && KNOWN_TYPES.has(named) ? problemTypeUri(named) : undefined;
        return problemResponse(c, status, detail ?? error.rawMessage, { headers, type });
      }
    }
    // A bug or an unmapped service failure: the log gets what a fix needs, the client only the request id.
    log.error("unhandled error", {
      request_id: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error: error.name,
      error_message: error.message,
      stack: error.stack,
    });
    return problemResponse(c, 500, "internal server error");
  };
}

/** bearerChallenge is the RFC 6750 WWW-Authenticate value for a rejected token. */
export function bearerChallenge(description: string): string {
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${description.replace(/["\\\r\n]/g, "")}"`;
}
