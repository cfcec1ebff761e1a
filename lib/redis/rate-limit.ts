// Fixed-window rate limits on rate-limiter-flexible. Its Redis limiter increments the counter,
// starts the window and reads the remaining TTL in one Lua script (one round trip, atomic), and
// its memory limiter keeps the same fixed windows in process. One limiter per backend with an
// unbounded point budget serves every (max, window) pair: the window is passed per call
// (customDuration, which only applies when a window starts) and `max` is applied here, so the
// counter under `rate_limit:<id>` is the same whatever limit a caller checks it against.
// checkAndGet counts on that same counter with the backend's own script, which also reads keys
// (an authenticated request's revocation marks and cached record: one round trip per request).
import type { Backend, RateLimit, RateLimitResult } from "./types.ts";

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function result(count: number, msBeforeNext: number, max: number): RateLimitResult {
  return {
    count,
    allowed: count <= max,
    remaining: Math.max(max - count, 0),
    resetSeconds: Math.max(Math.ceil(msBeforeNext / 1000), 0),
    limit: max,
  };
}

/** createRateLimit counts hits per id in fixed windows; denied hits count too, so a client that
 * keeps hammering stays denied until its window resets. Keys read by checkAndGet are cache keys
 * (under the store's prefix). */
export function createRateLimit(backend: Backend, prefix: string): RateLimit {
  return {
    async check(id, max, windowSeconds) {
      positiveInteger("max", max);
      positiveInteger("windowSeconds", windowSeconds);
      const res = await backend.guard(() => backend.limiter.consume(id, 1, { customDuration: windowSeconds }));
      return result(res.consumedPoints, res.msBeforeNext, max);
    },
    async checkAndGet(id, max, windowSeconds, keys) {
      positiveInteger("max", max);
      positiveInteger("windowSeconds", windowSeconds);
      const res = await backend.hitAndGet(
        id,
        windowSeconds,
        max,
        keys.map((key) => prefix + key),
      ); // guarded by the backend, like every primitive but the limiter
      return { ...result(res.count, res.msBeforeNext, max), values: res.values };
    },
    async reset(id) {
      await backend.guard(() => backend.limiter.delete(id));
    },
    async remaining(id, max) {
      positiveInteger("max", max);
      const res = await backend.guard(() => backend.limiter.get(id));
      return Math.max(max - (res?.consumedPoints ?? 0), 0);
    },
  };
}
