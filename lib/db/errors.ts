// The database layer's one failure that callers branch on: the database can't be reached.
/** DatabaseUnavailableError means the database can't be reached: callers answer Unavailable. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

/** MigrationError names the migration that failed; its bookkeeping row was not written. */
export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    readonly migration: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`migration ${migration} failed: ${message}`, options);
  }
}

// Prisma's codes for "the database can't be reached, has too many connections or answered too late";
// P2028 is a transaction that got no connection in time (a saturated pool or pooler) or outlived
// its timeout — rolled back either way, so a retry is safe.
const UNAVAILABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2037"]);

// SQLSTATEs with which a reachable server refuses or drops the session: connection exceptions
// (class 08), too many connections, shutdown and "starting up / shutting down / in recovery"
// (57P01-57P03). Prisma passes them on untranslated, in the driver adapter's cause.
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[123])$/;

/** isDatabaseUnavailable tells whether error means the database is down or too slow, not a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const { code, message, meta } = (error ?? {}) as {
    code?: unknown;
    message?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; severity?: unknown } } };
  };
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|TIMEDOUT|PIPE)$/.test(code)))
    return true;
  const cause = meta?.driverAdapterError?.cause;
  if (typeof cause?.originalCode === "string") {
    // 55000 at FATAL severity is "database … is not currently accepting connections" (ALLOW_CONNECTIONS false).
    if (UNAVAILABLE_SQLSTATE.test(cause.originalCode) || (cause.originalCode === "55000" && cause.severity === "FATAL")) return true;
  }
  // pg's own timeouts: no pooled connection within connectionTimeoutMillis, no answer within
  // query_timeout (a saturated pooler queueing the query).
  return (
    typeof message === "string" &&
    /Connection terminated|connection timeout|ECONNREFUSED|Can't reach database|timeout exceeded when trying to connect|Query read timeout/i.test(
      message,
    )
  );
}

/** isUniqueViolation tells whether error is a unique-index violation (Prisma P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "P2002";
}
