// A throwaway redis-server the test controls: killed, frozen and restarted on the same port. Each
// suite passes its own port range (the fault suite 6380-6389, the toolkit's redis-down test
// 6390-6399); a lock file holding the pid claims a port, so concurrent runs never share a server.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeRedis } from "./backends.ts";
import { within } from "./wait.ts";

/** redisServerBinary is the redis-server on PATH, if any. */
export const redisServerBinary = Bun.which("redis-server");

export type RedisServer = {
  url: string;
  /** start runs the server (again) on the claimed port and waits for PONG. */
  start(): Promise<void>;
  /** kill stops it like a crash (SIGKILL): no goodbye to its clients. */
  kill(): Promise<void>;
  freeze(): void;
  thaw(): void;
  /** close kills it and gives the port back. */
  close(): Promise<void>;
};

const claimPath = (port: number) => join(tmpdir(), `bun-api-starter-redis-${port}.lock`);

function claim(port: number, retry = true): boolean {
  try {
    writeFileSync(claimPath(port), String(process.pid), { flag: "wx" });
    return true;
  } catch {
    try {
      process.kill(Number(readFileSync(claimPath(port), "utf8")), 0);
      return false;
    } catch {
      rmSync(claimPath(port), { force: true }); // its run is gone
      return retry && claim(port, false);
    }
  }
}

function unclaim(port: number): void {
  try {
    if (readFileSync(claimPath(port), "utf8") === String(process.pid)) rmSync(claimPath(port));
  } catch {
    // already gone
  }
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

async function claimFreePort([first, last]: [number, number]): Promise<number> {
  for (const port of Array.from({ length: last - first + 1 }, (_, i) => first + i).sort(() => Math.random() - 0.5)) {
    if (!claim(port)) continue;
    if (await portFree(port)) return port;
    unclaim(port);
  }
  throw new Error(`no free port in ${first}-${last} for a throwaway redis-server`);
}

export type RedisServerOptions = {
  /** ports is the inclusive range this suite may claim from. */
  ports: [number, number];
  /** started false claims the port without running the server yet (default true). */
  started?: boolean;
};

/** startRedisServer claims a port and starts redis-server there (no persistence, loopback only). */
export async function startRedisServer({ ports, started = true }: RedisServerOptions): Promise<RedisServer> {
  if (!redisServerBinary) throw new Error("no redis-server on PATH");
  const binary = redisServerBinary;
  const port = await claimFreePort(ports);
  const url = `redis://127.0.0.1:${port}`;
  let proc: Bun.Subprocess | undefined;

  const server: RedisServer = {
    url,
    async start() {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      const started = Bun.spawn([binary, ...args], { stdout: "ignore", stderr: "ignore" });
      proc = started;
      await within(5000, "redis-server start", async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode} (port ${port} taken?)`);
        if (!(await probeRedis(url))) throw new Error("no PONG yet");
      });
    },
    async kill() {
      proc?.kill("SIGCONT");
      proc?.kill("SIGKILL");
      await proc?.exited;
      proc = undefined;
    },
    freeze: () => proc?.kill("SIGSTOP"),
    thaw: () => proc?.kill("SIGCONT"),
    async close() {
      await server.kill();
      unclaim(port);
    },
  };
  try {
    if (started) await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
