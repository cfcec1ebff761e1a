// Listing keys by pattern without KEYS (which blocks the server): SCAN, and on a Redis Cluster on
// every master, since each holds only its own slots' keys.
import { Cluster } from "ioredis";
import type { RedisClient } from "./types.ts";

/** scanKeys yields the keys matching pattern, a batch per SCAN reply. */
export async function* scanKeys(redis: RedisClient, pattern: string): AsyncGenerator<string[]> {
  for (const node of redis instanceof Cluster ? redis.nodes("master") : [redis]) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) yield keys;
      cursor = next;
    } while (cursor !== "0");
  }
}
