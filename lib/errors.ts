// The few typed errors that domain code throws. Each edge maps them once: the RPC server to
// Connect codes (lib/rpc/errors.ts), the gateway to HTTP statuses and problem+json.

/** PROBLEM_TYPES name the answers a client tells apart by more than their status; the gateway
 * turns each into a problem `type` (/problems/<name>), RPC clients read it from `x-problem-type`. */
export const PROBLEM_TYPES = {
  /** a sign-in to an account whose email is not verified, while REQUIRE_VERIFIED_EMAIL is on */
  emailNotVerified: "email-not-verified",
  /** a mailed link's token that is unknown, used or expired (one answer for all three) */
  invalidToken: "invalid-token",
} as const;
export type ProblemType = (typeof PROBLEM_TYPES)[keyof typeof PROBLEM_TYPES];

/** InvalidArgumentError is a client mistake in one field; the message names the field. */
export class InvalidArgumentError extends Error {
  override name = "InvalidArgumentError";
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly problemType?: ProblemType,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** NotFoundError means no such record (or none the caller may see). */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** AlreadyExistsError means the record would collide with an existing one (e.g. an email). */
export class AlreadyExistsError extends Error {
  override name = "AlreadyExistsError";
}

/** FailedPreconditionError means the record's state forbids the operation (e.g. it is deleted). */
export class FailedPreconditionError extends Error {
  override name = "FailedPreconditionError";
}

/** UnauthenticatedError means missing or invalid credentials; the message is safe to show. */
export class UnauthenticatedError extends Error {
  override name = "UnauthenticatedError";
}

/** PermissionDeniedError means valid credentials that don't allow this. */
export class PermissionDeniedError extends Error {
  override name = "PermissionDeniedError";
  constructor(
    message: string,
    readonly problemType?: ProblemType,
  ) {
    super(message);
  }
}

/** RateLimitedError is a client over a limit (HTTP 429 at the gateway); retry after retryAfterSeconds. */
export class RateLimitedError extends Error {
  override name = "RateLimitedError";
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

/** ResourceExhaustedError means the server is at capacity; retry after retryAfterSeconds. */
export class ResourceExhaustedError extends Error {
  override name = "ResourceExhaustedError";
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}
