// The toolkit's failures. Callers branch on these: a rate limit fails closed on
// CacheUnavailableError, a cache read degrades to the database, an edge maps it to 503.

/** CacheUnavailableError means Redis did not answer (down, unreachable, timed out, loading);
 * it is thrown fast instead of queueing the command. */
export class CacheUnavailableError extends Error {
  override name = "CacheUnavailableError";
}

/** LockTimeoutError means acquire ran out of retries while a lock or every permit was held. */
export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
  constructor(
    readonly key: string,
    readonly attempts: number,
  ) {
    super(`could not acquire "${key}" in ${attempts} attempts`);
  }
}

/** LockLostError means a lock was extended after its TTL ran out and someone else may hold it:
 * stop the critical section. */
export class LockLostError extends Error {
  override name = "LockLostError";
  constructor(readonly key: string) {
    super(`lock "${key}" is no longer held by this owner`);
  }
}
