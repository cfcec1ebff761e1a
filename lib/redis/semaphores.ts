// Distributed semaphores where every permit expires on its own: a crashed holder loses only its
// permit, after its TTL. The atomic steps are the backend's (scripts.ts says why not
// redis-semaphore); retries and the Permit object are shared with locks.
import { ttlMs } from "./cache.ts";
import { releaseQuietly, withRetries } from "./locks.ts";
import { DEFAULTS, KEY_PREFIXES, type AcquireOptions, type Backend, type Permit, type Semaphores } from "./types.ts";

/** createSemaphores hands out at most `limit` live permits per key under `semaphore:<key>`. */
export function createSemaphores(backend: Backend, prefix: string): Semaphores {
  const fullKey = (key: string) => `${prefix}${KEY_PREFIXES.semaphore}${key}`;

  async function tryAcquire(key: string, limit: number, options: AcquireOptions = {}): Promise<Permit | null> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    }
    const ms = ttlMs(options.ttlSeconds ?? DEFAULTS.ttlSeconds);
    const id = crypto.randomUUID();
    if (!(await backend.permitAcquire(fullKey(key), id, limit, ms))) return null;
    const release = () => backend.permitRelease(fullKey(key), id);
    return { key, release, [Symbol.asyncDispose]: () => releaseQuietly(release) };
  }

  return {
    tryAcquire,
    acquire: (key, limit, options = {}) => withRetries(key, options, () => tryAcquire(key, limit, options)),
    count: (key) => backend.permitCount(fullKey(key)),
  };
}
