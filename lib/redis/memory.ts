// The in-process backend for embedded mode (no REDIS_URL): the same primitives as the Redis
// scripts, made atomic by running synchronously on the one JavaScript thread. Shared by nothing
// outside this process — one instance of a service only.
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { Backend } from "./types.ts";

const SWEEP_INTERVAL_MS = 30_000;

interface Entry {
  value: string;
  expiresAt: number;
}

/** createMemoryBackend keeps values, locks and permits in Maps with per-entry expiry. */
export function createMemoryBackend(): Backend {
  const now = () => performance.now();
  const entries = new Map<string, Entry>(); // values and lock owners
  const fences = new Map<string, number>(); // never expire, like the Redis counter
  const permits = new Map<string, Map<string, number>>(); // key → permit id → expiry

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function livePermits(key: string): Map<string, number> {
    const set = permits.get(key) ?? new Map<string, number>();
    const t = now();
    for (const [id, expiresAt] of set) if (expiresAt <= t) set.delete(id);
    if (set.size === 0) permits.delete(key);
    return set;
  }

  // Expired entries are dropped when touched; the sweep catches the ones nobody touches again.
  const sweeper = setInterval(() => {
    for (const key of entries.keys()) live(key);
    for (const key of permits.keys()) livePermits(key);
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  const ownedBy = (key: string, owner: string) => live(key)?.value === owner;
  const limiter = new RateLimiterMemory({ points: Number.MAX_SAFE_INTEGER, duration: 60 });

  return {
    kind: "memory",
    redis: undefined,
    describe: () => "in-process",
    guard: (fn) => fn(),
    async ping() {},
    async close() {
      clearInterval(sweeper);
    },
    limiter,
    async hitAndGet(id, windowSeconds, max, keys) {
      // consume() counts synchronously inside its promise executor, so reading right after it, before
      // awaiting, is one atomic step like the Redis script.
      const hit = limiter.consume(id, 1, { customDuration: windowSeconds });
      const read = keys.map((key) => live(key)?.value ?? null);
      const { consumedPoints: count, msBeforeNext } = await hit;
      return { count, msBeforeNext, values: count <= max ? read : keys.map(() => null) };
    },
    getValue: async (key) => live(key)?.value ?? null,
    getValues: async (keys) => keys.map((key) => live(key)?.value ?? null),
    async setValue(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: now() + ttlMs });
    },
    deleteValue: async (key) => live(key) !== undefined && entries.delete(key),
    async takeValue(key) {
      const value = live(key)?.value ?? null;
      entries.delete(key);
      return value;
    },
    async lockAcquire(key, owner, ttlMs) {
      if (live(key)) return 0;
      entries.set(key, { value: owner, expiresAt: now() + ttlMs });
      const token = (fences.get(key) ?? 0) + 1;
      fences.set(key, token);
      return token;
    },
    lockRelease: async (key, owner) => ownedBy(key, owner) && entries.delete(key),
    async lockExtend(key, owner, ttlMs) {
      if (!ownedBy(key, owner)) return false;
      entries.set(key, { value: owner, expiresAt: now() + ttlMs });
      return true;
    },
    lockHeld: async (key) => live(key) !== undefined,
    async permitAcquire(key, id, limit, ttlMs) {
      const set = livePermits(key);
      if (set.size >= limit) return false;
      set.set(id, now() + ttlMs);
      permits.set(key, set);
      return true;
    },
    permitRelease: async (key, id) => livePermits(key).delete(id),
    permitCount: async (key) => livePermits(key).size,
  };
}
