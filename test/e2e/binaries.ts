// The real binaries as a user runs them: Bun.spawn from the repository root, each in its own temp
// DATA_DIR, with an environment written out in full (only PATH and HOME come from the test process,
// so no DATABASE_URL, NODE_ENV=test or secret leaks in) and every byte of output kept for failures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const JWT_SECRET = "e2e-jwt-secret-0123456789abcdefghijklmnop";
export const INTERNAL_SERVICE_TOKEN = "e2e-internal-token-0123456789abcdefgh";
export const PASSWORD = "correct horse battery staple";

export type Env = Record<string, string>;

/**
 * UNLIMITED lifts the gateway's rate limits for binaries on the shared Redis: their counters
 * (rate_limit:auth:127.0.0.1, rate_limit:users:127.0.0.1) have no per-run prefix, so every other
 * process on this machine counts against them.
 */
export const UNLIMITED: Env = { RATE_LIMIT_REQUESTS: "1000000000", RATE_LIMIT_AUTH_REQUESTS: "1000000000" };

export type Running = {
  proc: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  /** stdout and stderr so far, for assertions and failure messages. */
  stdout(): string;
  stderr(): string;
  /** stop sends SIGTERM (SIGKILL after 10 s) and resolves with the exit code. */
  stop(): Promise<number>;
};

export type Exited = { code: number; stdout: string; stderr: string };

const started = new Set<Running>();
const dirs: string[] = [];

/** dataDir makes a temp DATA_DIR that cleanup() removes. */
export function dataDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `e2e-${tag}-`));
  dirs.push(dir);
  return dir;
}

/** baseEnv is the whole environment of a binary apart from what a test adds. */
export const baseEnv = (dir: string): Env => ({
  PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: process.env.HOME ?? dir,
  DATA_DIR: dir,
  SERVER_HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
});

/** freePorts finds loopback ports nobody listens on (bound to 0, then released). */
export function freePorts(count: number): number[] {
  const sockets = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = sockets.map((socket) => socket.port);
  for (const socket of sockets) socket.stop(true);
  return ports;
}

function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  return (async () => {
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
  })();
}

/**
 * start runs `bun <args>` and resolves once stdout matches ready; it fails with the whole output if
 * the binary exits first or doesn't get ready within timeoutMs.
 */
export async function start(args: string[], env: Env, ready: RegExp, timeoutMs = 30_000): Promise<Running> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = { text: "" };
  const err = { text: "" };
  const drained = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);
  let stopping: Promise<number> | undefined;
  const running: Running = {
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    stop() {
      stopping ??= (async () => {
        started.delete(running);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        const code = await proc.exited;
        clearTimeout(killer);
        await drained;
        return code;
      })();
      return stopping;
    },
  };
  started.add(running);
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out.text)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      const how = proc.exitCode !== null ? `exited with ${proc.exitCode}` : `not ready after ${timeoutMs} ms`;
      await running.stop();
      throw new Error(`bun ${args.join(" ")} ${how}\n--- stdout\n${out.text}\n--- stderr\n${err.text}`);
    }
    await Bun.sleep(25);
  }
  return running;
}

/** run runs `bun <args>` to its end, writing stdin when given. */
export async function run(args: string[], env: Env, stdin?: string, timeoutMs = 30_000): Promise<Exited> {
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    env,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(killer);
  return { code, stdout, stderr };
}

/** cleanup stops every binary still running and removes the data directories; call it in afterAll. */
export async function cleanup(): Promise<void> {
  await Promise.all([...started].map((running) => running.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** http is a tiny client for one gateway that fails a request instead of hanging. */
export function http(base: string) {
  return (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(10_000),
    });
}

/** uniqueEmail is an address no other run uses (the PostgreSQL and Redis servers are shared). */
export const uniqueEmail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** where is host:port/database of a URL, as the banners print it (never the credentials). */
export function where(url: string, defaultPort: string): string {
  const { hostname, port, pathname } = new URL(url);
  return `${hostname}:${port || defaultPort}${pathname === "/" ? "" : pathname}`;
}

/** messageLines are stderr's lines without JSON log records and development-secret notes. */
export const messageLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("{") && !line.startsWith("note: "));
