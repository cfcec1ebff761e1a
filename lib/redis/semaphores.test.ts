import { expect, test } from "bun:test";
import { LockTimeoutError } from "./index.ts";
import { describeStores } from "../../test/stores.ts";

describeStores("semaphores", (store) => {
  test("100 concurrent acquirers on a semaphore of 5: never more than 5 holders, all served", async () => {
    const { semaphores } = store();
    let holders = 0;
    let most = 0;
    let served = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const permit = await semaphores.acquire("pool", 5, { retries: 2000, retryDelayMs: 5 });
        holders++;
        most = Math.max(most, holders);
        await Bun.sleep(5);
        holders--;
        served++;
        expect(await permit.release()).toBe(true);
      }),
    );
    expect(served).toBe(100);
    expect(most).toBeLessThanOrEqual(5);
    expect(most).toBeGreaterThan(1);
    expect(await semaphores.count("pool")).toBe(0);
  });

  test("a crashed holder's permit is reclaimed after its TTL while others keep acquiring", async () => {
    const { semaphores } = store();
    await semaphores.acquire("crash", 2, { ttlSeconds: 0.5 }); // never released
    const started = performance.now();
    let reclaimedAfter = 0;
    while (performance.now() - started < 3000) {
      const a = await semaphores.tryAcquire("crash", 2, { ttlSeconds: 0.5 });
      expect(a).not.toBeNull(); // one slot stays free for the live clients throughout
      const b = await semaphores.tryAcquire("crash", 2, { ttlSeconds: 0.5 });
      await a?.release();
      await b?.release();
      if (b) {
        reclaimedAfter = performance.now() - started;
        break;
      }
      await Bun.sleep(25);
    }
    expect(reclaimedAfter).toBeGreaterThan(400);
    expect(await semaphores.count("crash")).toBe(0);
  });

  test("each permit keeps its own TTL: a short-TTL acquirer doesn't evict a long-TTL permit", async () => {
    const { semaphores } = store();
    const long = await semaphores.acquire("mixed", 2, { ttlSeconds: 60 });
    await Bun.sleep(400);
    const short = await semaphores.acquire("mixed", 2, { ttlSeconds: 0.2 });
    await Bun.sleep(300);
    expect(await semaphores.count("mixed")).toBe(1);
    expect(await short.release()).toBe(false); // expired
    expect(await long.release()).toBe(true);
  });

  test("tryAcquire answers null at the limit; count follows acquire and release", async () => {
    const { semaphores } = store();
    const one = await semaphores.tryAcquire("small", 2);
    const two = await semaphores.tryAcquire("small", 2);
    expect(await semaphores.count("small")).toBe(2);
    expect(await semaphores.tryAcquire("small", 2)).toBeNull();
    await one?.release();
    expect(await semaphores.count("small")).toBe(1);
    await two?.release();
    expect(await semaphores.count("small")).toBe(0);
  });

  test("acquire at the limit runs out of retries with LockTimeoutError; await using releases", async () => {
    const { semaphores } = store();
    {
      await using _held = await semaphores.acquire("full", 1);
      const error = await semaphores.acquire("full", 1, { retries: 2, retryDelayMs: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockTimeoutError);
    }
    expect(await semaphores.count("full")).toBe(0);
  });
});
