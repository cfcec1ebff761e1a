// Distributed locks with fencing tokens. The atomic steps are the backend's (scripts.ts on
// Redis, where scripts.ts says why redis-semaphore's Mutex doesn't fit); retries and the Lock
// object are written once here.
import { ttlMs } from "./cache.ts";
import { CacheUnavailableError, LockLostError, LockTimeoutError } from "./errors.ts";
import { DEFAULTS, KEY_PREFIXES, type AcquireOptions, type Backend, type Locks } from "./types.ts";

/** withRetries calls attempt until it yields a value, 1 + retries times, retryDelayMs apart;
 * backend failures propagate at once. */
export async function withRetries<T>(
  key: string,
  { retries = DEFAULTS.retries, retryDelayMs = DEFAULTS.retryDelayMs }: AcquireOptions,
  attempt: () => Promise<T | null>,
): Promise<T> {
  for (let n = 0; n <= retries; n++) {
    if (n > 0) await Bun.sleep(retryDelayMs);
    const value = await attempt();
    if (value !== null) return value;
  }
  throw new LockTimeoutError(key, retries + 1);
}

/** releaseQuietly is the dispose step: an unreachable Redis frees the lock by TTL anyway, and
 * failing a finished critical section for it would be worse. */
export async function releaseQuietly(release: () => Promise<boolean>): Promise<void> {
  try {
    await release();
  } catch (error) {
    if (!(error instanceof CacheUnavailableError)) throw error;
  }
}

/** createLocks hands out owner-only locks under `lock:{<key>}`; each carries a fencing token, counted
 * under `lock:{<key>}:fence` — the same hash tag, so on a Redis Cluster both are in one slot and
 * one script takes the lock and draws the token. */
export function createLocks(backend: Backend, prefix: string): Locks {
  const fullKey = (key: string) => `${prefix}${KEY_PREFIXES.lock}{${key}}`;

  async function tryAcquire(key: string, options: AcquireOptions = {}) {
    const ms = ttlMs(options.ttlSeconds ?? DEFAULTS.ttlSeconds);
    const owner = crypto.randomUUID();
    const token = await backend.lockAcquire(fullKey(key), owner, ms);
    if (token === 0) return null;
    const release = () => backend.lockRelease(fullKey(key), owner);
    return {
      key,
      token,
      async extend(ttlSeconds = ms / 1000) {
        if (!(await backend.lockExtend(fullKey(key), owner, ttlMs(ttlSeconds)))) {
          throw new LockLostError(key);
        }
      },
      release,
      [Symbol.asyncDispose]: () => releaseQuietly(release),
    };
  }

  return {
    tryAcquire,
    acquire: (key, options = {}) => withRetries(key, options, () => tryAcquire(key, options)),
    isLocked: (key) => backend.lockHeld(fullKey(key)),
  };
}
