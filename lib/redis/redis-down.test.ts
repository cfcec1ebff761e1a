// Redis outages against a throwaway redis-server this file starts, stops, freezes and restarts:
// every operation fails fast with CacheUnavailableError, and the same client recovers.
import { afterAll, describe, expect, test } from "bun:test";
import { redisServerBinary, startRedisServer, type RedisServer } from "../../test/redis-server.ts";
import { within } from "../../test/wait.ts";
import { CacheUnavailableError, createStore, type Store } from "./index.ts";
import { randomPrefix } from "../../test/stores.ts";

if (!redisServerBinary) console.log("[redis down] skipped: no redis-server binary on PATH");

/** everyOperation starts one call of each kind on keys of its own (a command that timed out on
 * a frozen server still runs once it thaws, so a lock it took stays held until its TTL). */
function everyOperation(store: Store, tag: string): Promise<unknown>[] {
  return [
    store.ping(),
    store.cache.get(`k-${tag}`),
    store.cache.set(`k-${tag}`, 1),
    store.cache.getMany([`k-${tag}`, `j-${tag}`]),
    store.sessions.get(`s-${tag}`),
    store.rateLimit.check(`ip-${tag}`, 10, 60),
    store.rateLimit.checkAndGet(`ip-${tag}`, 10, 60, [`k-${tag}`]),
    store.rateLimit.remaining(`ip-${tag}`, 10),
    // fails as unavailable at once, not as LockTimeoutError after its retries
    store.locks.acquire(`l-${tag}`).then((lock) => lock.release()),
    store.locks.isLocked(`l-${tag}`),
    store.semaphores.acquire(`s-${tag}`, 2).then((permit) => permit.release()),
    store.semaphores.count(`s-${tag}`),
  ];
}

async function expectAllUnavailable(store: Store, tag: string): Promise<void> {
  const started = performance.now();
  const settled = await Promise.allSettled(everyOperation(store, tag));
  expect(performance.now() - started).toBeLessThan(3000);
  for (const result of settled) {
    expect(result.status).toBe("rejected");
    if (result.status === "rejected") expect(result.reason).toBeInstanceOf(CacheUnavailableError);
  }
}

async function expectAllWorking(store: Store, tag: string): Promise<void> {
  const settled = await Promise.allSettled(everyOperation(store, tag));
  expect(settled.filter((result) => result.status === "rejected")).toEqual([]);
}

describe.skipIf(!redisServerBinary)("store with Redis down", () => {
  let server: RedisServer;
  let store: Store;
  let client: Store["redis"];

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  test("before Redis ever answers, operations fail fast with CacheUnavailableError", async () => {
    server = await startRedisServer({ ports: [6390, 6399], started: false });
    store = createStore({ url: server.url, prefix: randomPrefix(), onError: () => {} });
    client = store.redis;
    await expectAllUnavailable(store, "never-up");
  });

  test("once Redis starts, the same client works", async () => {
    await server.start();
    await within(10_000, "first connection", () => store.ping());
    await expectAllWorking(store, "up");
    expect(store.redis).toBe(client);
  });

  test("with Redis stopped, operations fail fast; after a restart they work again", async () => {
    await server.kill();
    await expectAllUnavailable(store, "stopped");
    await expectAllUnavailable(store, "stopped-again"); // and keep failing fast while it reconnects
    await server.start();
    await within(10_000, "reconnection", () => store.ping());
    await expectAllWorking(store, "restarted");
    expect(store.redis).toBe(client);
  });

  test("with Redis frozen, operations time out as CacheUnavailableError; then recover", async () => {
    server.freeze();
    await expectAllUnavailable(store, "frozen");
    server.thaw();
    await within(10_000, "recovery", () => store.ping());
    await expectAllWorking(store, "thawed");
    expect(store.redis).toBe(client);
  });
});
