// createStore: the one entry point. Redis when a URL is given, otherwise the in-process backend.
import { createCache, createSessions } from "./cache.ts";
import { createLocks } from "./locks.ts";
import { createMemoryBackend } from "./memory.ts";
import { createRateLimit } from "./rate-limit.ts";
import { createRedisBackend } from "./redis.ts";
import { createSemaphores } from "./semaphores.ts";
import type { Store } from "./types.ts";
import type { z } from "zod";
import type { redisEnv } from "../config/config.ts";

export interface StoreOptions {
  /** url is a redis:// or rediss:// URL; undefined or empty selects the in-process backend. */
  url?: string;
  /** prefix goes before every key (e.g. "myapp:"), so apps or test runs can share one Redis. */
  prefix?: string;
  /** commandTimeoutMs bounds each Redis command (default 1000). */
  commandTimeoutMs?: number;
  /** onError sees Redis connection errors; the default warns once per outage. */
  onError?: (error: Error) => void;
}

/** createStore builds the cache, sessions, rate limits, locks and semaphores on one backend. */
export function createStore({ url, prefix = "", commandTimeoutMs, onError }: StoreOptions = {}): Store {
  const backend = url ? createRedisBackend({ url, prefix, commandTimeoutMs, onError }) : createMemoryBackend();
  return {
    kind: backend.kind,
    prefix,
    redis: backend.redis,
    describe: backend.describe,
    ping: backend.ping,
    close: backend.close,
    cache: createCache(backend, prefix),
    sessions: createSessions(backend, prefix),
    rateLimit: createRateLimit(backend, prefix),
    locks: createLocks(backend, prefix),
    semaphores: createSemaphores(backend, prefix),
  };
}

/** RedisEnv is what config's redisEnv parses: REDIS_URL (absent: in-process) and REDIS_KEY_PREFIX. */
export type RedisEnv = z.output<z.ZodObject<typeof redisEnv>>;

/** storeFromEnv opens the store a binary's environment names. */
export function storeFromEnv(env: RedisEnv, options: Omit<StoreOptions, "url" | "prefix"> = {}): Store {
  return createStore({ ...options, url: env.REDIS_URL, prefix: env.REDIS_KEY_PREFIX });
}
