// Removing one namespace's keys: a test run's, a benchmark run's (REDIS_KEY_PREFIX).
import { scanKeys } from "./scan.ts";
import type { Store } from "./types.ts";

/** deletePrefix removes every key under prefix (Redis only; the in-process store has nothing to keep);
 * on a cluster, from every master. */
export async function deletePrefix(store: Store, prefix: string): Promise<void> {
  const redis = store.redis;
  if (!redis) return;
  await store.ping(); // waits for the connection: the raw client would fail at once (no offline queue)
  for await (const keys of scanKeys(redis, `${prefix}*`)) {
    // One DEL per key: on a cluster the keys of one batch still span many slots.
    await Promise.all(keys.map((key) => redis.del(key)));
  }
}
