// The real binaries for the fault suite, spawned the way an operator runs them: an explicit
// environment (nothing inherited but PATH and HOME), a temporary DATA_DIR, loopback, port 0 — the
// banner says which port each got. Their output is kept for failure messages.
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { within } from "../wait.ts";

const ROOT = join(import.meta.dir, "../..");

/** SECRETS are shared by the binaries of one stack, so tokens and service credentials match. */
export const SECRETS = {
  JWT_SECRET: "fault-suite-jwt-secret-0123456789abcdefghij",
  INTERNAL_SERVICE_TOKEN: "fault-suite-internal-token-0123456789abcdef",
};

const COMMANDS = {
  combined: ["combined/main.ts", "serve", "--gateway-port", "0", "--auth-port", "0", "--user-port", "0"],
  gateway: ["gateway/main.ts", "serve", "--port", "0"],
  auth: ["services/auth/main.ts", "serve", "--port", "0"],
  user: ["services/user/main.ts", "serve", "--port", "0"],
} as const;

export type BinaryKind = keyof typeof COMMANDS;

export type Binary = {
  kind: BinaryKind;
  pid: number;
  /** url of the gateway (combined, gateway) or the service (auth, user); combined also has auth and user. */
  url: string;
  urls: { gateway?: string; auth?: string; user?: string };
  /** output is everything it wrote to stdout and stderr so far. */
  output(): string;
  signal(signal: NodeJS.Signals): void;
  running(): boolean;
  exited: Promise<number>;
  /** kill ends it for good (SIGKILL, after SIGCONT in case it is stopped) and removes its DATA_DIR. */
  kill(): Promise<void>;
};

const running = new Set<Binary>();

/** startBinary spawns a binary with env (plus the shared secrets) and resolves once it listens. */
export async function startBinary(kind: BinaryKind, env: Record<string, string | undefined> = {}): Promise<Binary> {
  const dataDir = mkdtempSync(join(tmpdir(), `fault-${kind}-`));
  const proc = Bun.spawn([process.execPath, ...COMMANDS[kind]], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: "development",
      LOG_LEVEL: "warn",
      SERVER_HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      ...SECRETS,
      ...Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  // Drained for the whole life of the process, so a chatty binary never blocks on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]);
  const exited = proc.exited.then(async (code) => {
    await drained;
    return code;
  });

  const binary: Binary = {
    kind,
    pid: proc.pid,
    url: "",
    urls: {},
    output: () => out,
    running: () => proc.exitCode === null && proc.signalCode === null,
    signal: (signal) => {
      if (binary.running()) proc.kill(signal);
    },
    exited,
    async kill() {
      binary.signal("SIGCONT");
      binary.signal("SIGKILL");
      await exited;
      running.delete(binary);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(binary);

  const banner = kind === "combined" ? /\n\s+redis\s+\S/ : /listening on http:\/\/\S+\n/;
  const deadline = performance.now() + 30_000;
  while (!banner.test(out)) {
    if (proc.exitCode !== null || performance.now() > deadline) {
      await binary.kill();
      throw new Error(`${kind} did not start:\n${out}`);
    }
    await Bun.sleep(20);
  }
  const find = (pattern: RegExp) => pattern.exec(out)?.[1];
  if (kind === "combined") {
    binary.urls = { gateway: find(/^\s+gateway\s+(http:\S+)/m), auth: find(/^\s+auth service\s+(http:\S+)/m), user: find(/^\s+user service\s+(http:\S+)/m) };
    binary.url = binary.urls.gateway ?? "";
  } else {
    binary.url = find(/listening on (http:\/\/\S+)/) ?? "";
    binary.urls = { [kind]: binary.url };
  }
  return binary;
}

/** killAll ends every binary this file started and did not kill yet. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((binary) => binary.kill()));
}

/** exitWithin resolves with the exit code, or fails if the process is still running after ms. */
export async function exitWithin(binary: Binary, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${binary.kind} still running ${ms} ms later:\n${binary.output()}`)), ms);
  });
  return Promise.race([binary.exited, late]).finally(() => clearTimeout(timer));
}

/** connectionRefused tells whether a new TCP connection to url's port is refused. */
export function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** timed runs fn and tells how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** call requests a path of base; a hang fails the test after 15 s instead of stalling the suite. */
export const call = (base: string, path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { signal: AbortSignal.timeout(15_000), ...init });

/** HealthJson is the gateway's /health body: the reference's shape. */
export type HealthJson = { status: "healthy" | "degraded"; services: Record<string, { status: "healthy" | "unhealthy"; error?: string }> };

/** health reads a gateway's /health as status and body. */
export async function health(base: string): Promise<{ status: number; body: HealthJson }> {
  const res = await call(base, "/health");
  return { status: res.status, body: (await res.json()) as HealthJson };
}
