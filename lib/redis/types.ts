// The store's public surface, and the few primitives each backend (Redis, in-process) provides
// so that everything above them — JSON, retries, Lock and Permit objects — is written once.
import type { Cluster, Redis } from "ioredis";
import type { RateLimiterAbstract } from "rate-limiter-flexible";

/** KEY_PREFIXES are the reference's key namespaces, appended to the store's own prefix. */
export const KEY_PREFIXES = {
  user: "user:",
  session: "session:",
  rateLimit: "rate_limit:",
  lock: "lock:",
  semaphore: "semaphore:",
} as const;

/** RedisClient is the ioredis client under a Redis store: one node or a master behind sentinels
 * (Redis), or a Redis Cluster (Cluster). */
export type RedisClient = Redis | Cluster;

/** userTag is the hash tag every key about one user carries (`{user:<id>}`), so that on a Redis
 * Cluster they share a slot: a user's cached record and revocation marks are read in one MGET, and
 * their session index with its sessions. On one node it is just part of the name. */
export const userTag = (userId: string) => `{${KEY_PREFIXES.user}${userId}}`;

/** DEFAULTS are the reference's: cache TTL 1 h; locks and permits 30 s TTL, 10 retries 100 ms apart. */
export const DEFAULTS = {
  cacheTtlSeconds: 3600,
  ttlSeconds: 30,
  retries: 10,
  retryDelayMs: 100,
} as const;

export interface Cache {
  /** get returns the cached JSON value, or null when absent or expired. */
  get<T>(key: string): Promise<T | null>;
  /** getMany reads several keys in one round trip, in order, null for each one absent. */
  getMany<T>(keys: string[]): Promise<(T | null)[]>;
  set(key: string, value: unknown, ttlSeconds?: number): Promise<void>;
  /** delete answers whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** take reads and deletes a value in one atomic step: of two concurrent takes, one gets it. */
  take<T>(key: string): Promise<T | null>;
}

/** Sessions hold auth sessions under `session:<id>`; a session always has an explicit lifetime. */
export interface Sessions {
  get<T>(id: string): Promise<T | null>;
  set(id: string, data: unknown, ttlSeconds: number): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export interface RateLimitResult {
  /** count is the number of hits in the current window, this one included (denied hits count). */
  count: number;
  allowed: boolean;
  remaining: number;
  resetSeconds: number;
  limit: number;
}

export interface RateLimit {
  check(id: string, max: number, windowSeconds: number): Promise<RateLimitResult>;
  /** checkAndGet counts a hit exactly like check and, in the same atomic step (one round trip),
   * reads cache keys — only when the hit is allowed: a denied hit reads nothing (every value
   * null). Values are the stored JSON text, not decoded, so that a caller on a hot path can keep
   * what it decodes by that text. */
  checkAndGet(id: string, max: number, windowSeconds: number, keys: string[]): Promise<RateLimitResult & { values: (string | null)[] }>;
  remaining(id: string, max: number): Promise<number>;
  /** reset forgets id's hits: its next window starts afresh. */
  reset(id: string): Promise<void>;
}

export interface AcquireOptions {
  ttlSeconds?: number;
  /** retries is the number of attempts after the first one. */
  retries?: number;
  retryDelayMs?: number;
}

export interface Lock extends AsyncDisposable {
  readonly key: string;
  /** token is the fencing token: it grows with every acquisition of this key, never repeats. */
  readonly token: number;
  /** extend resets the TTL (default: the acquisition's); throws LockLostError if not the owner. */
  extend(ttlSeconds?: number): Promise<void>;
  /** release deletes the lock if still the owner and answers whether it was. */
  release(): Promise<boolean>;
}

export interface Locks {
  acquire(key: string, options?: AcquireOptions): Promise<Lock>;
  tryAcquire(key: string, options?: Pick<AcquireOptions, "ttlSeconds">): Promise<Lock | null>;
  isLocked(key: string): Promise<boolean>;
}

export interface Permit extends AsyncDisposable {
  readonly key: string;
  /** release frees the permit and answers whether it was still held (not expired). */
  release(): Promise<boolean>;
}

export interface Semaphores {
  acquire(key: string, limit: number, options?: AcquireOptions): Promise<Permit>;
  tryAcquire(key: string, limit: number, options?: Pick<AcquireOptions, "ttlSeconds">): Promise<Permit | null>;
  /** count is the number of live (unexpired) permits. */
  count(key: string): Promise<number>;
}

export interface Store {
  readonly kind: "redis" | "memory";
  /** prefix goes before every key, then KEY_PREFIXES: `${prefix}rate_limit:<id>`, `${prefix}<cache key>`.
   * Custom scripts on `redis` must build their keys the same way. */
  readonly prefix: string;
  describe(): string;
  ping(): Promise<void>;
  close(): Promise<void>;
  readonly cache: Cache;
  readonly sessions: Sessions;
  readonly rateLimit: RateLimit;
  readonly locks: Locks;
  readonly semaphores: Semaphores;
  readonly redis: RedisClient | undefined;
}

/** Backend is what a store needs from Redis or process memory. Keys arrive fully prefixed and
 * durations in milliseconds; every operation is atomic on its own. */
export interface Backend {
  readonly kind: Store["kind"];
  readonly redis: RedisClient | undefined;
  describe(): string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** guard runs fn against the backend, turning connection failures into CacheUnavailableError. */
  guard<T>(fn: () => Promise<T>): Promise<T>;
  /** limiter counts hits per key in fixed windows (points unbounded; the caller applies max). */
  readonly limiter: RateLimiterAbstract;
  /** hitAndGet counts one hit on limiter's counter for id (the same counter and window rules) and,
   * when the count is at most max, reads keys — one atomic step; values are null when denied. */
  hitAndGet(
    id: string,
    windowSeconds: number,
    max: number,
    keys: string[],
  ): Promise<{ count: number; msBeforeNext: number; values: (string | null)[] }>;
  getValue(key: string): Promise<string | null>;
  getValues(keys: string[]): Promise<(string | null)[]>;
  setValue(key: string, value: string, ttlMs: number): Promise<void>;
  deleteValue(key: string): Promise<boolean>;
  /** takeValue reads and deletes key atomically (GETDEL). */
  takeValue(key: string): Promise<string | null>;
  /** lockAcquire sets key to owner if free and returns the next fencing token, else 0. */
  lockAcquire(key: string, owner: string, ttlMs: number): Promise<number>;
  lockRelease(key: string, owner: string): Promise<boolean>;
  lockExtend(key: string, owner: string, ttlMs: number): Promise<boolean>;
  lockHeld(key: string): Promise<boolean>;
  /** permitAcquire drops expired permits and adds this one if fewer than limit remain. */
  permitAcquire(key: string, id: string, limit: number, ttlMs: number): Promise<boolean>;
  permitRelease(key: string, id: string): Promise<boolean>;
  permitCount(key: string): Promise<number>;
}
