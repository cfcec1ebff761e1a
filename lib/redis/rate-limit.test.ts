import { expect, test } from "bun:test";
import { testRedisUrl } from "../../test/backends.ts";
import { createStore } from "./index.ts";
import { deletePrefix } from "./delete-prefix.ts";
import { describeStores, randomPrefix } from "../../test/stores.ts";

describeStores("rate limit", (store, prefix) => {
  test("allows exactly max in a window, denies the next, counts remaining down", async () => {
    const { rateLimit } = store();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await rateLimit.check("ip:1", 3, 60));
    expect(seen.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(seen.map((r) => r.count)).toEqual([1, 2, 3, 4]);
    expect(seen.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    for (const r of seen) {
      expect(r.limit).toBe(3);
      expect(r.resetSeconds).toBeGreaterThan(0);
      expect(r.resetSeconds).toBeLessThanOrEqual(60);
    }
    expect(await rateLimit.remaining("ip:1", 3)).toBe(0);
    expect(await rateLimit.remaining("ip:unseen", 3)).toBe(3);
  });

  test("allows again once the window has passed", async () => {
    const { rateLimit } = store();
    expect((await rateLimit.check("ip:2", 2, 1)).allowed).toBe(true);
    expect((await rateLimit.check("ip:2", 2, 1)).allowed).toBe(true);
    const denied = await rateLimit.check("ip:2", 2, 1);
    expect(denied).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 1 });
    await Bun.sleep(1100);
    expect(await rateLimit.remaining("ip:2", 2)).toBe(2);
    expect(await rateLimit.check("ip:2", 2, 1)).toMatchObject({ allowed: true, count: 1, remaining: 1 });
  });

  test("concurrent hits: exactly max allowed, every count distinct", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => store().rateLimit.check("ip:burst", 10, 60)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(new Set(results.map((r) => r.count)).size).toBe(50);
    expect(Math.max(...results.map((r) => r.count))).toBe(50);
  });

  test("the counter is per id and lives under rate_limit:<id>", async () => {
    await store().rateLimit.check("user:7", 5, 60);
    expect(await store().rateLimit.remaining("user:7", 5)).toBe(4);
    expect(await store().rateLimit.remaining("user:8", 5)).toBe(5);
    const redis = store().redis;
    if (redis) expect(await redis.get(`${prefix}rate_limit:user:7`)).toBe("1");
  });

  test("checkAndGet counts on the same counter as check and reads the keys' JSON text, null when absent", async () => {
    const { rateLimit, cache } = store();
    await cache.set("read:a", { n: 1 });
    await cache.set("read:c", 3);
    expect(await rateLimit.check("ip:read", 3, 60)).toMatchObject({ count: 1 });
    const hit = await rateLimit.checkAndGet("ip:read", 3, 60, ["read:a", "read:b", "read:c"]);
    expect(hit).toMatchObject({ count: 2, allowed: true, remaining: 1, limit: 3, values: ['{"n":1}', null, "3"] });
    expect(hit.resetSeconds).toBeGreaterThan(0);
    expect(hit.resetSeconds).toBeLessThanOrEqual(60);
    expect(await rateLimit.check("ip:read", 3, 60)).toMatchObject({ count: 3, allowed: true });
    expect(await rateLimit.remaining("ip:read", 3)).toBe(0);
  });

  test("checkAndGet without keys is a plain hit; a denied hit reads nothing", async () => {
    const { rateLimit, cache } = store();
    await cache.set("read:d", "secret");
    expect(await rateLimit.checkAndGet("ip:deny", 1, 60, [])).toMatchObject({ count: 1, allowed: true, values: [] });
    const denied = await rateLimit.checkAndGet("ip:deny", 1, 60, ["read:d"]);
    expect(denied).toMatchObject({ count: 2, allowed: false, remaining: 0, values: [null] });
  });

  test("checkAndGet starts a window of its own length and allows again once it has passed", async () => {
    const { rateLimit } = store();
    expect((await rateLimit.checkAndGet("ip:window", 1, 1, [])).allowed).toBe(true);
    expect(await rateLimit.checkAndGet("ip:window", 1, 1, [])).toMatchObject({ allowed: false, resetSeconds: 1 });
    await Bun.sleep(1100);
    expect(await rateLimit.checkAndGet("ip:window", 1, 1, [])).toMatchObject({ allowed: true, count: 1 });
    const redis = store().redis;
    if (redis) expect(await redis.pttl(`${prefix}rate_limit:ip:window`)).toBeWithin(1, 1001);
  });

  test("checkAndGet under concurrency: exactly max allowed, every count distinct, every allowed hit reads", async () => {
    await store().cache.set("read:burst", "v");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 ? store().rateLimit.checkAndGet("ip:burst-get", 10, 60, ["read:burst"]) : store().rateLimit.check("ip:burst-get", 10, 60),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(new Set(results.map((r) => r.count)).size).toBe(50);
    for (const r of results) if ("values" in r) expect(r.values).toEqual([r.allowed ? '"v"' : null]);
  });

  test("check refuses a limit or window that is not a positive integer", async () => {
    await expect(store().rateLimit.check("x", 0, 60)).rejects.toThrow(RangeError);
    await expect(store().rateLimit.check("x", 5, 0.5)).rejects.toThrow(RangeError);
    await expect(store().rateLimit.checkAndGet("x", 0, 60, [])).rejects.toThrow(RangeError);
    await expect(store().rateLimit.checkAndGet("x", 5, 0, [])).rejects.toThrow(RangeError);
  });
});

test.skipIf(!testRedisUrl())("two stores on one Redis with different prefixes don't share a rate-limit counter", async () => {
  const [a, b] = [randomPrefix(), randomPrefix()];
  const appA = createStore({ url: testRedisUrl(), prefix: a });
  const appB = createStore({ url: testRedisUrl(), prefix: b });
  const appAAgain = createStore({ url: testRedisUrl(), prefix: a });
  try {
    for (let i = 0; i < 3; i++) await appA.rateLimit.check("auth:127.0.0.1", 3, 60);
    expect(await appB.rateLimit.check("auth:127.0.0.1", 3, 60)).toMatchObject({ allowed: true, count: 1 });
    expect(await appAAgain.rateLimit.check("auth:127.0.0.1", 3, 60)).toMatchObject({ allowed: false, count: 4 });
  } finally {
    await Promise.all([deletePrefix(appA, a), deletePrefix(appB, b)]);
    await Promise.all([appA, appB, appAAgain].map((store) => store.close()));
  }
});
