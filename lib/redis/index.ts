// The Redis toolkit's public surface: the store (cache, sessions, rate limits, locks, semaphores) and its errors.
export { createStore, storeFromEnv, type RedisEnv, type StoreOptions } from "./store.ts";
export type { HostPort, RedisTarget } from "./redis.ts";
export { CacheUnavailableError, LockLostError, LockTimeoutError } from "./errors.ts";
export { DEFAULTS, KEY_PREFIXES, userTag } from "./types.ts";
export type {
  AcquireOptions,
  Cache,
  Lock,
  Locks,
  Permit,
  RateLimit,
  RateLimitResult,
  RedisClient,
  Semaphores,
  Sessions,
  Store,
} from "./types.ts";
