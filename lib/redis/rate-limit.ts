// Fixed-window rate limits on rate-limiter-flexible. Its Redis limiter increments the counter,
// starts the window and reads the remaining TTL in one Lua script (one round trip, atomic), and
// its memory limiter keeps the same fixed windows in process. One limiter per backend with an
// unbounded point budget serves every (max, window) pair: the window is passed per call
// (customDuration, which only applies when a window starts) and `max` is applied here, so the
// counter under `rate_limit:<id>` is the same whatever limit a caller checks it against.
import type { Backend, RateLimit, RateLimitResult } from "./types.ts";

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** createRateLimit counts hits per id in fixed windows; denied hits count too, so a client that
 * keeps hammering stays denied until its window resets. */
export function createRateLimit(backend: Backend): RateLimit {
  return {
    async check(id, max, windowSeconds): Promise<RateLimitResult> {
      positiveInteger("max", max);
      positiveInteger("windowSeconds", windowSeconds);
      const res = await backend.guard(() => backend.limiter.consume(id, 1, { customDuration: windowSeconds }));
      const count = res.consumedPoints;
      return {
        count,
        allowed: count <= max,
        remaining: Math.max(max - count, 0),
        resetSeconds: Math.max(Math.ceil(res.msBeforeNext / 1000), 0),
        limit: max,
      };
    },
    async remaining(id, max) {
      positiveInteger("max", max);
      const res = await backend.guard(() => backend.limiter.get(id));
      return Math.max(max - (res?.consumedPoints ?? 0), 0);
    },
  };
}
