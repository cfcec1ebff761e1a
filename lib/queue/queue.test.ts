import { expect, test } from "bun:test";
import calculateSlot from "cluster-key-slot";
import { CacheUnavailableError } from "../redis/errors.ts";
import { createStore } from "../redis/index.ts";
import { describeStores, scanKeys } from "../../test/stores.ts";
import { silentLog } from "../../test/services.ts";
import { testRedisUrl } from "../../test/backends.ts";
import { createQueue, queuePrefix, retryDelay } from "./queue.ts";

const FAST = { log: silentLog, backoffMs: 50, maxBackoffMs: 200, closeTimeoutMs: 1000 };

async function until(check: () => boolean, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

describeStores("queue", (store, prefix, kind) => {
  // Keys exist on Redis only (the in-process queue keeps none).
  if (kind !== "memory")
    test("every key of a queue is under the store's prefix and shares one hash slot (one cluster node)", async () => {
      const name = `slot-${crypto.randomUUID()}`;
      const queue = createQueue<{ n: number }>(store(), { ...FAST, name });
      const seen: number[] = [];
      queue.process(async (job) => {
        seen.push(job.n);
      });
      await queue.add({ n: 1 });
      await until(() => seen.length === 1);
      await queue.close();
      const keys = await scanKeys(store(), `${queuePrefix(prefix)}:${name}:*`);
      expect(keys.length).toBeGreaterThan(1);
      expect(new Set(keys.map((key) => calculateSlot(key)))).toEqual(new Set([calculateSlot(`${prefix}{bull}`)]));
    });

  test("a job whose handler fails twice is retried after a backoff and then done, once", async () => {
    const queue = createQueue<{ n: number }>(store(), { ...FAST, name: `retry-${crypto.randomUUID()}` });
    const seen: number[] = [];
    let failures = 0;
    queue.process(async (job) => {
      if (failures++ < 2) throw new Error("SMTP down");
      seen.push(job.n);
    });
    await queue.add({ n: 7 });
    await until(() => seen.length > 0);
    await Bun.sleep(200);
    expect(seen).toEqual([7]);
    expect(failures).toBe(3);
    await queue.close();
  });

  test("a job gives up after its attempts", async () => {
    const queue = createQueue<{ n: number }>(store(), { ...FAST, name: `give-up-${crypto.randomUUID()}`, attempts: 3 });
    let tries = 0;
    queue.process(async () => {
      tries++;
      throw new Error("refused");
    });
    await queue.add({ n: 1 });
    await until(() => tries === 3);
    await Bun.sleep(400);
    expect(tries).toBe(3);
    await queue.close();
  });
});

test.skipIf(!testRedisUrl())("a job waiting for its retry when one process closes is done by the next one on the same Redis", async () => {
  const prefix = `test:${crypto.randomUUID().slice(0, 8)}:`;
  const name = `restart-${crypto.randomUUID()}`;
  const first = createStore({ url: testRedisUrl(), prefix });
  const before = createQueue<{ n: number }>(first, { ...FAST, name, backoffMs: 300 });
  let failed = 0;
  before.process(async () => {
    failed++;
    throw new Error("SMTP down");
  });
  await before.add({ n: 42 });
  await until(() => failed === 1);
  await before.close();
  await first.close();

  const second = createStore({ url: testRedisUrl(), prefix });
  const after = createQueue<{ n: number }>(second, { ...FAST, name });
  const done: number[] = [];
  after.process(async (job) => {
    done.push(job.n);
  });
  await until(() => done.length === 1);
  expect(done).toEqual([42]);
  await after.close();
  const { deletePrefix } = await import("../redis/delete-prefix.ts");
  await deletePrefix(second, prefix);
  await second.close();
});

test("add on an unreachable Redis rejects with CacheUnavailableError, at once", async () => {
  const socket = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = socket;
  socket.stop(true);
  const store = createStore({ url: `redis://127.0.0.1:${port}`, onError: () => {} });
  const queue = createQueue<{ n: number }>(store, { ...FAST, name: "unreachable" });
  await Bun.sleep(100);
  const started = performance.now();
  const error = await queue.add({ n: 1 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CacheUnavailableError);
  expect(performance.now() - started).toBeLessThan(3000);
  await queue.close();
  await store.close();
});

test("retryDelay doubles from the first wait up to the cap, within ±20 %", () => {
  for (const [failed, base] of [
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [10, 60_000],
  ] as const) {
    const delay = retryDelay(failed, 1000, 60_000);
    expect(delay).toBeGreaterThanOrEqual(base * 0.8);
    expect(delay).toBeLessThanOrEqual(base * 1.2);
  }
});
