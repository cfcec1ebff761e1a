import { expect, test } from "bun:test";
import { LockLostError, LockTimeoutError } from "./index.ts";
import { describeStores } from "../../test/stores.ts";

describeStores("locks", (store) => {
  test("a held lock can't be taken until released", async () => {
    const { locks } = store();
    const lock = await locks.acquire("a");
    expect(lock.key).toBe("a");
    expect(await locks.isLocked("a")).toBe(true);
    expect(await locks.tryAcquire("a")).toBeNull();
    expect(await lock.release()).toBe(true);
    expect(await locks.isLocked("a")).toBe(false);
    const next = await locks.tryAcquire("a");
    expect(next?.token).toBeGreaterThan(lock.token);
    await next?.release();
  });

  test("a holder past its TTL loses the lock; its release leaves the new lock intact", async () => {
    const { locks } = store();
    const old = await locks.acquire("b", { ttlSeconds: 0.3 });
    const next = await locks.acquire("b", { ttlSeconds: 5, retries: 50, retryDelayMs: 20 });
    expect(next.token).toBeGreaterThan(old.token);
    expect(await old.release()).toBe(false);
    expect(await locks.isLocked("b")).toBe(true);
    expect(await locks.tryAcquire("b")).toBeNull();
    await expect(old.extend(5)).rejects.toThrow(LockLostError);
    expect(await next.release()).toBe(true);
  });

  test("extend keeps a lock alive past its first TTL", async () => {
    const { locks } = store();
    const lock = await locks.acquire("c", { ttlSeconds: 0.4 });
    await Bun.sleep(250);
    await lock.extend(1);
    await Bun.sleep(350); // past the first TTL
    expect(await locks.isLocked("c")).toBe(true);
    expect(await locks.tryAcquire("c")).toBeNull();
    await lock.extend(); // back to the acquisition's 0.4 s
    await Bun.sleep(600);
    expect(await locks.isLocked("c")).toBe(false);
  });

  test("acquire that runs out of retries throws LockTimeoutError", async () => {
    const { locks } = store();
    await using held = await locks.acquire("d");
    const started = performance.now();
    const error = await locks.acquire("d", { retries: 3, retryDelayMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error).toMatchObject({ key: "d", attempts: 4 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(held.token).toBeGreaterThan(0);
  });

  test("await using releases the lock at the end of the block", async () => {
    const { locks } = store();
    {
      await using lock = await locks.acquire("e");
      expect(await locks.isLocked(lock.key)).toBe(true);
    }
    expect(await locks.isLocked("e")).toBe(false);
  });

  test("concurrent acquirers take turns and draw strictly increasing fencing tokens", async () => {
    const { locks } = store();
    let inside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const lock = await locks.acquire("f", { retries: 500, retryDelayMs: 5 });
        inside++;
        expect(inside).toBe(1);
        order.push(lock.token);
        await Bun.sleep(2);
        inside--;
        await lock.release();
      }),
    );
    expect(order).toHaveLength(20);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(new Set(order).size).toBe(20);
  });
});
