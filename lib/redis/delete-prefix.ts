// Removing one namespace's keys: a test run's, a benchmark run's (REDIS_KEY_PREFIX).
import type { Store } from "./types.ts";

/** deletePrefix removes every key under prefix (Redis only; the in-process store has nothing to keep). */
export async function deletePrefix(store: Store, prefix: string): Promise<void> {
  const redis = store.redis;
  if (!redis) return;
  await store.ping(); // waits for the connection: the raw client would fail at once (no offline queue)
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}
