// The RPC edge's one error table: domain errors → Connect codes. Anything unknown becomes Internal
// with a generic message (the details go to the log, never to the client).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { CacheUnavailableError } from "../redis/errors.ts";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  ResourceExhaustedError,
  UnauthenticatedError,
} from "../errors.ts";
import type { Logger } from "../log.ts";

/** RATE_LIMITED_HEADER marks a ResourceExhausted answer that means "this client is over a limit". */
export const RATE_LIMITED_HEADER = "x-rate-limited";
/** PROBLEM_TYPE_HEADER names an answer's problem type (lib/errors.ts PROBLEM_TYPES), when it has one. */
export const PROBLEM_TYPE_HEADER = "x-problem-type";

const CODES: [new (...args: never[]) => Error, Code][] = [
  [InvalidArgumentError, Code.InvalidArgument],
  [NotFoundError, Code.NotFound],
  [AlreadyExistsError, Code.AlreadyExists],
  [FailedPreconditionError, Code.FailedPrecondition],
  [UnauthenticatedError, Code.Unauthenticated],
  [PermissionDeniedError, Code.PermissionDenied],
  [CacheUnavailableError, Code.Unavailable],
];

/** toConnectError maps a thrown value to the ConnectError a client sees. */
export function toConnectError(error: unknown, log?: Logger): ConnectError {
  if (error instanceof ConnectError) return error;
  // The client (the gateway) turns this into Retry-After.
  if (error instanceof ResourceExhaustedError) {
    return new ConnectError(error.message, Code.ResourceExhausted, { "retry-after": String(error.retryAfterSeconds) }, undefined, error);
  }
  // A client over a limit, not a server at capacity: the gateway answers 429 (RATE_LIMITED_HEADER).
  if (error instanceof RateLimitedError) {
    const metadata = { "retry-after": String(error.retryAfterSeconds), [RATE_LIMITED_HEADER]: "1" };
    return new ConnectError(error.message, Code.ResourceExhausted, metadata, undefined, error);
  }
  const match = CODES.find(([type]) => error instanceof type);
  if (match && error instanceof Error) {
    const problemType = error instanceof InvalidArgumentError || error instanceof PermissionDeniedError ? error.problemType : undefined;
    const metadata = problemType ? { [PROBLEM_TYPE_HEADER]: problemType } : undefined;
    return new ConnectError(error.message, match[1], metadata, undefined, error);
  }
  if (isDatabaseUnavailable(error)) return new ConnectError("the database is unavailable", Code.Unavailable, undefined, undefined, error);
  log?.error("unexpected error", { error });
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** errorInterceptor applies toConnectError to every call a server handles. */
export function errorInterceptor(log?: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
}
