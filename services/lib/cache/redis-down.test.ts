// Redis outages against a throwaway redis-server this file starts, stops, freezes and restarts:
// every operation fails fast with CacheUnavailableError, and the same client recovers.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeRedis } from "../../../test/backends.ts";
import { CacheUnavailableError, createStore, type Store } from "./index.ts";
import { randomPrefix } from "./test-stores.ts";

const binary = Bun.which("redis-server");
if (!binary) console.log("[redis down] skipped: no redis-server binary on PATH");

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

// Concurrent runs of this file claim their port with a lock file holding the pid, so two runs
// never share a throwaway server (a dead run's claim is taken over).
const claimPath = (port: number) => join(tmpdir(), `bun-api-starter-redis-down-${port}.lock`);

function claimPort(port: number, retry = true): boolean {
  try {
    writeFileSync(claimPath(port), String(process.pid), { flag: "wx" });
    return true;
  } catch {
    try {
      process.kill(Number(readFileSync(claimPath(port), "utf8")), 0);
      return false;
    } catch {
      rmSync(claimPath(port), { force: true });
      return retry && claimPort(port, false);
    }
  }
}

function unclaimPort(port: number): void {
  if (readFileSync(claimPath(port), "utf8") === String(process.pid)) rmSync(claimPath(port));
}

async function sparePort(): Promise<number> {
  const ports = Array.from({ length: 10 }, (_, i) => 6390 + i).sort(() => Math.random() - 0.5);
  for (const port of ports) {
    if (claimPort(port)) {
      if (await portFree(port)) return port;
      unclaimPort(port);
    }
  }
  throw new Error("no free port in 6390-6399");
}

async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() > deadline) throw new Error(`${what} not within ${ms} ms`, { cause: error });
      await Bun.sleep(50);
    }
  }
}

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

describe.skipIf(!binary)("store with Redis down", () => {
  let server: Bun.Subprocess | undefined;
  let port = 0;
  let store: Store;
  let client: Store["redis"];

  async function startServer(): Promise<void> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    server = Bun.spawn([binary ?? "redis-server", ...args], { stdout: "ignore", stderr: "ignore" });
    await within(5000, "redis-server start", async () => {
      if (!(await probeRedis(`redis://127.0.0.1:${port}`))) throw new Error("not up");
    });
    if (server.exitCode !== null) throw new Error(`port ${port} was taken by another process`);
  }

  async function stopServer(): Promise<void> {
    server?.kill("SIGKILL");
    await server?.exited;
    server = undefined;
  }

  afterAll(async () => {
    server?.kill("SIGCONT");
    await stopServer();
    await store?.close();
    if (port) unclaimPort(port);
  });

  test("before Redis ever answers, operations fail fast with CacheUnavailableError", async () => {
    port = await sparePort();
    store = createStore({ url: `redis://127.0.0.1:${port}`, prefix: randomPrefix(), onError: () => {} });
    client = store.redis;
    await expectAllUnavailable(store, "never-up");
  });

  test("once Redis starts, the same client works", async () => {
    await startServer();
    await within(10_000, "first connection", () => store.ping());
    await expectAllWorking(store, "up");
    expect(store.redis).toBe(client);
  });

  test("with Redis stopped, operations fail fast; after a restart they work again", async () => {
    await stopServer();
    await expectAllUnavailable(store, "stopped");
    await expectAllUnavailable(store, "stopped-again"); // and keep failing fast while it reconnects
    await startServer();
    await within(10_000, "reconnection", () => store.ping());
    await expectAllWorking(store, "restarted");
    expect(store.redis).toBe(client);
  });

  test("with Redis frozen, operations time out as CacheUnavailableError; then recover", async () => {
    server?.kill("SIGSTOP");
    await expectAllUnavailable(store, "frozen");
    server?.kill("SIGCONT");
    await within(10_000, "recovery", () => store.ping());
    await expectAllWorking(store, "thawed");
    expect(store.redis).toBe(client);
  });
});
