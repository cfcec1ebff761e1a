import { expect, test } from "bun:test";
import { createStore } from "./index.ts";
import { describeStores } from "../../test/stores.ts";

describeStores("cache", (store, prefix, kind) => {
  test("get returns what set stored, as a copy, and null once deleted", async () => {
    const value = { n: 1, nested: { list: [1, "two", null] } };
    await store().cache.set("doc", value);
    value.n = 2;
    expect(await store().cache.get<typeof value>("doc")).toEqual({ n: 1, nested: { list: [1, "two", null] } });
    expect(await store().cache.delete("doc")).toBe(true);
    expect(await store().cache.delete("doc")).toBe(false);
    expect(await store().cache.get("doc")).toBeNull();
  });

  test("take answers the value once: of ten concurrent takes exactly one gets it", async () => {
    await store().cache.set("once", { n: 1 });
    const taken = await Promise.all(Array.from({ length: 10 }, () => store().cache.take<{ n: number }>("once")));
    expect(taken.filter((value) => value !== null)).toEqual([{ n: 1 }]);
    expect(await store().cache.get("once")).toBeNull();
    expect(await store().cache.take("never")).toBeNull();
  });

  test("a value expires after its TTL", async () => {
    await store().cache.set("short", "v", 0.3);
    expect(await store().cache.get<string>("short")).toBe("v");
    await Bun.sleep(450);
    expect(await store().cache.get("short")).toBeNull();
  });

  test("set without a TTL keeps the value for the default hour", async () => {
    await store().cache.set("long", 42);
    const redis = store().redis;
    if (redis) {
      const ttl = await redis.pttl(`${prefix}long`);
      expect(ttl).toBeGreaterThan(3_590_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    }
    expect(await store().cache.get<number>("long")).toBe(42);
  });

  test("getMany reads several keys in order with null for the absent ones", async () => {
    await store().cache.set("m1", 1);
    await store().cache.set("m3", 3);
    expect(await store().cache.getMany<number>(["m1", "m2", "m3"])).toEqual([1, null, 3]);
    expect(await store().cache.getMany([])).toEqual([]);
  });

  test("sessions live under session: for their own TTL and can be deleted", async () => {
    await store().sessions.set("s-1", { userId: "u-1" }, 0.3);
    await store().sessions.set("s-2", { userId: "u-2" }, 60);
    expect(await store().sessions.get("s-1")).toEqual({ userId: "u-1" });
    expect(await store().cache.get("session:s-2")).toEqual({ userId: "u-2" });
    await Bun.sleep(450);
    expect(await store().sessions.get("s-1")).toBeNull();
    expect(await store().sessions.delete("s-2")).toBe(true);
    expect(await store().sessions.get("s-2")).toBeNull();
  });

  test("set refuses a non-positive TTL and a value JSON can't hold", async () => {
    await expect(store().cache.set("bad", 1, 0)).rejects.toThrow(RangeError);
    await expect(store().cache.set("bad", undefined)).rejects.toThrow(TypeError);
  });

  test("ping answers and describe names the backend", async () => {
    await store().ping();
    expect(store().describe()).toMatch(
      kind === "cluster" ? /^redis cluster ([\w.-]+:\d+,?)+$/ : kind === "redis" ? /^redis [\w.-]+:\d+$/ : /^in-process$/,
    );
  });
});

test("createStore without a URL is the in-process store with no Redis client", async () => {
  const store = createStore({ url: "" });
  expect(store.kind).toBe("memory");
  expect(store.redis).toBeUndefined();
  await store.close();
});
