// createStore: the one entry point. Redis when a target is given (one node, a cluster or a master
// behind sentinels), otherwise the in-process backend.
import { createCache, createSessions } from "./cache.ts";
import { createLocks } from "./locks.ts";
import { createMemoryBackend } from "./memory.ts";
import { createRateLimit } from "./rate-limit.ts";
import { createRedisBackend, type HostPort, type RedisTarget } from "./redis.ts";
import { createSemaphores } from "./semaphores.ts";
import type { Store } from "./types.ts";
import type { z } from "zod";
import type { redisEnv } from "../config/config.ts";

export interface StoreOptions {
  /** url is a redis:// or rediss:// URL of one node; undefined or empty (and no cluster or
   * sentinels) selects the in-process backend. */
  url?: string;
  /** cluster are seed nodes of a Redis Cluster (any of its nodes; the rest are discovered). */
  cluster?: HostPort[];
  /** sentinels watch the master named sentinelName; the client follows its failovers. */
  sentinels?: HostPort[];
  sentinelName?: string;
  /** password is the cluster nodes' or the Sentinel-managed master's (a URL carries its own). */
  password?: string;
  sentinelPassword?: string;
  /** prefix goes before every key (e.g. "myapp:"), so apps or test runs can share one Redis. */
  prefix?: string;
  /** commandTimeoutMs bounds each Redis command (default 1000). */
  commandTimeoutMs?: number;
  /** onError sees Redis connection errors; the default warns once per outage. */
  onError?: (error: Error) => void;
}

/** redisTarget is the Redis that options name, or undefined for the in-process backend. */
export function redisTarget(options: StoreOptions): RedisTarget | undefined {
  const { url, cluster, sentinels, sentinelName, password, sentinelPassword } = options;
  if (cluster?.length) return { cluster, password };
  if (sentinels?.length) {
    if (!sentinelName) throw new TypeError("sentinels need the master's name (sentinelName)");
    return { sentinels, name: sentinelName, password, sentinelPassword };
  }
  return url ? { url } : undefined;
}

/** createStore builds the cache, sessions, rate limits, locks and semaphores on one backend. */
export function createStore(options: StoreOptions = {}): Store {
  const { prefix = "", commandTimeoutMs, onError } = options;
  const target = redisTarget(options);
  const backend = target ? createRedisBackend({ target, prefix, commandTimeoutMs, onError }) : createMemoryBackend();
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

/** RedisEnv is what config's redisEnv parses: REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS
 * (none: in-process), their passwords, and REDIS_KEY_PREFIX. */
export type RedisEnv = z.output<z.ZodObject<typeof redisEnv>>;

/** storeFromEnv opens the store a binary's environment names. */
export function storeFromEnv(env: RedisEnv, options: Omit<StoreOptions, "url" | "prefix"> = {}): Store {
  return createStore({
    ...options,
    url: env.REDIS_URL,
    cluster: env.REDIS_CLUSTER_NODES,
    sentinels: env.REDIS_SENTINELS,
    sentinelName: env.REDIS_SENTINEL_NAME,
    password: env.REDIS_PASSWORD,
    sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
    prefix: env.REDIS_KEY_PREFIX,
  });
}
