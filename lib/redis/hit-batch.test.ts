// batchHits against a real Redis running the real script: one call per turn, each hit counted and
// read as if alone, a failed call failing every hit in it.
import { afterAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { testRedisUrl } from "../../test/backends.ts";
import { batchHits } from "./hit-batch.ts";
import { runScript, SCRIPTS } from "./scripts.ts";

const url = testRedisUrl();
const redis = url ? new Redis(url) : undefined;
const prefix = `hit-batch:${crypto.randomUUID()}:`;
afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** hitsCounting is batchHits on the real script, counting its calls. */
function hitsCounting() {
  const calls: number[] = [];
  const hit = batchHits((keys, args) => {
    calls.push(args.length / 3);
    return runScript(redis!, SCRIPTS.rateLimitHits, keys, args);
  });
  return { hit, calls };
}

describe.skipIf(!redis)("batchHits", () => {
  test("the hits of one turn are one call; each is counted in order and reads its own keys", async () => {
    await redis!.set(`${prefix}user:a`, '{"id":"a"}');
    await redis!.set(`${prefix}user:b`, '{"id":"b"}');
    const { hit, calls } = hitsCounting();
    const results = await Promise.all([
      hit(`${prefix}rl:1`, [`${prefix}user:a`, `${prefix}none`], 60, 10),
      hit(`${prefix}rl:1`, [`${prefix}user:b`], 60, 10),
      hit(`${prefix}rl:2`, [], 60, 10),
      hit(`${prefix}rl:1`, [`${prefix}user:a`], 60, 10),
    ]);
    expect(calls).toEqual([4]);
    expect(results.map((r) => r.count)).toEqual([1, 2, 1, 3]);
    expect(results.map((r) => r.values)).toEqual([['{"id":"a"}', null], ['{"id":"b"}'], [], ['{"id":"a"}']]);
    for (const r of results) expect(r.msBeforeNext).toBeGreaterThan(59_000);
  });

  test("a denied hit reads nothing; exactly max of a burst are allowed, across turns too", async () => {
    await redis!.set(`${prefix}user:c`, "c");
    const { hit, calls } = hitsCounting();
    const first = await Promise.all(Array.from({ length: 30 }, () => hit(`${prefix}rl:burst`, [`${prefix}user:c`], 60, 40)));
    const second = await Promise.all(Array.from({ length: 30 }, () => hit(`${prefix}rl:burst`, [`${prefix}user:c`], 60, 40)));
    const all = [...first, ...second];
    expect(calls).toEqual([30, 30]);
    expect(all.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(all.filter((r) => r.count <= 40).every((r) => r.values[0] === "c")).toBe(true);
    expect(all.filter((r) => r.count > 40).every((r) => r.values[0] === null)).toBe(true);
  });

  test("a window is the hit's own: a 1 s window resets while a 60 s one counts on", async () => {
    const { hit } = hitsCounting();
    await Promise.all([hit(`${prefix}rl:short`, [], 1, 1), hit(`${prefix}rl:long`, [], 60, 1)]);
    await Bun.sleep(1100);
    const [short, long] = await Promise.all([hit(`${prefix}rl:short`, [], 1, 1), hit(`${prefix}rl:long`, [], 60, 1)]);
    expect([short!.count, long!.count]).toEqual([1, 2]);
  });

  test("more hits than one call takes go in several", async () => {
    const { hit, calls } = hitsCounting();
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => hit(`${prefix}rl:many:${i % 3}`, [], 60, 1000)));
    expect(calls).toEqual([64, 64, 22]);
    expect(results.filter((r) => r.count === 50)).toHaveLength(3);
  });

  test("a failed call fails every hit in it, and the next turn is a call of its own", async () => {
    let fail = true;
    const hit = batchHits((keys, args) =>
      fail ? Promise.reject(new Error("redis is down")) : runScript(redis!, SCRIPTS.rateLimitHits, keys, args),
    );
    const failed = await Promise.allSettled([hit(`${prefix}rl:f`, [], 60, 5), hit(`${prefix}rl:f`, [], 60, 5)]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect((await hit(`${prefix}rl:f`, [], 60, 5)).count).toBe(1);
  });

  test("a reply of the wrong shape fails the hits instead of handing out misread counts", async () => {
    const hit = batchHits(async () => [1, 60_000]);
    await expect(hit(`${prefix}rl:shape`, [`${prefix}x`], 60, 5)).rejects.toThrow("expected 3 values");
  });
});
