// The real binaries as an operator runs them, for the e2e and fault suites: Bun.spawn from the
// repository root, each in its own temp DATA_DIR, on loopback, with an environment written out in
// full (only PATH and HOME come from the test process, so no DATABASE_URL, NODE_ENV=test or secret
// leaks in). Output is drained for the whole life of a process, so a chatty binary never blocks
// on a full pipe, and every byte is kept for assertions and failure messages.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStore, type Store } from "../lib/redis/index.ts";
import { deletePrefix } from "../lib/redis/delete-prefix.ts";
import { scanKeys } from "../lib/redis/scan.ts";
import { testRedisUrl } from "./backends.ts";

export const ROOT = join(import.meta.dir, "..");
export const JWT_SECRET = "binaries-jwt-secret-0123456789abcdefghijklm";
/** CREDENTIALS are the callers' secrets (lib/rpc/callers.ts): one each, so a test can present any caller. */
export const CREDENTIALS = {
  GATEWAY_TOKEN: "binaries-gateway-token-0123456789abcdef01",
  AUTH_SERVICE_TOKEN: "binaries-auth-service-token-0123456789ab",
  OPERATOR_TOKEN: "binaries-operator-token-0123456789abcdef",
};
/** SECRETS are shared by the binaries of one stack, so tokens and service credentials match. */
export const SECRETS = { JWT_SECRET, ...CREDENTIALS };
export const PASSWORD = "correct horse battery staple";

/**
 * REDIS_KEY_PREFIX keeps this run's keys apart on a shared Redis: the gateway's counters
 * (rate_limit:auth:127.0.0.1 …) count only this run's requests, and cleanup() deletes the keys.
 */
export const REDIS_KEY_PREFIX = `test:binaries:${crypto.randomUUID().slice(0, 8)}:`;

export type Env = Record<string, string>;

export type Running = {
  pid: number;
  /** stdout and stderr so far; output is both, interleaved as they arrived. */
  stdout(): string;
  stderr(): string;
  output(): string;
  running(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** exited resolves with the exit code once all output is read. */
  exited: Promise<number>;
  /** stop sends SIGTERM (SIGKILL after 10 s) and resolves with the exit code. */
  stop(): Promise<number>;
  /** kill ends it at once: SIGCONT (in case it was stopped), then SIGKILL. */
  kill(): Promise<number>;
};

export type Exited = { code: number; stdout: string; stderr: string };

const started = new Set<Running>();
const dirs: string[] = [];

/** dataDir makes a temp DATA_DIR that cleanup() removes. */
export function dataDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `binaries-${tag}-`));
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
  REDIS_KEY_PREFIX,
  // The services' internal Connect listeners on free ports too (their defaults are fixed).
  AUTH_SERVICE_INTERNAL_PORT: "0",
  USER_SERVICE_INTERNAL_PORT: "0",
});

/** MAIL_ENV is what a production auth service (or combined) needs to send mail: an SMTP relay on a
 * loopback port nobody listens on (its mails are queued and retried, never sent) and the links' base. */
export const MAIL_ENV = {
  SMTP_URL: `smtp://127.0.0.1:${freePorts(1)[0]}`,
  PUBLIC_BASE_URL: "https://app.example.com",
};

/** freePorts finds loopback ports nobody listens on (bound to 0, then released). */
export function freePorts(count: number): number[] {
  const sockets = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = sockets.map((socket) => socket.port);
  for (const socket of sockets) socket.stop(true);
  return ports;
}

/**
 * start runs `bun <args>` and resolves once stdout matches ready; it fails with the whole output if
 * the binary exits first or doesn't get ready within timeoutMs.
 */
export async function start(args: string[], env: Env, ready: RegExp, timeoutMs = 30_000): Promise<Running> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const text = { stdout: "", stderr: "", output: "" };
  const drain = async (stream: ReadableStream<Uint8Array>, which: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text[which] += piece;
      text.output += piece;
    }
  };
  const drained = Promise.all([drain(proc.stdout, "stdout"), drain(proc.stderr, "stderr")]);
  const exited = proc.exited.then(async (code) => {
    started.delete(running);
    await drained;
    return code;
  });
  const isRunning = () => proc.exitCode === null && proc.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    if (isRunning()) proc.kill(name);
  };
  let stopping: Promise<number> | undefined;
  const running: Running = {
    pid: proc.pid,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    output: () => text.output,
    running: isRunning,
    signal,
    exited,
    stop() {
      stopping ??= (async () => {
        signal("SIGTERM");
        const killer = setTimeout(() => signal("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(killer);
        return code;
      })();
      return stopping;
    },
    kill() {
      signal("SIGCONT");
      signal("SIGKILL");
      return exited;
    },
  };
  started.add(running);
  const deadline = performance.now() + timeoutMs;
  while (!ready.test(text.stdout)) {
    if (!isRunning() || performance.now() > deadline) {
      const how = isRunning() ? `not ready after ${timeoutMs} ms` : `exited with ${proc.exitCode ?? proc.signalCode}`;
      await running.kill();
      throw new Error(`bun ${args.join(" ")} ${how}\n--- stdout\n${text.stdout}\n--- stderr\n${text.stderr}`);
    }
    await Bun.sleep(20);
  }
  return running;
}

const COMMANDS = {
  combined: ["combined/main.ts", "serve", "--gateway-port", "0", "--auth-port", "0", "--user-port", "0"],
  gateway: ["gateway/main.ts", "serve", "--port", "0"],
  auth: ["services/auth/main.ts", "serve", "--port", "0"],
  user: ["services/user/main.ts", "serve", "--port", "0"],
} as const;

export type BinaryKind = keyof typeof COMMANDS;

/** Binary is a started binary and where it listens (combined: the gateway's URL, plus urls.auth and urls.user). */
export type Binary = Running & { kind: BinaryKind; url: string; urls: { gateway?: string; auth?: string; user?: string } };

/**
 * startBinary starts one binary on port 0 in development mode with the shared SECRETS and env
 * (undefined entries left out), and reads its addresses from the banner.
 */
export async function startBinary(kind: BinaryKind, env: Record<string, string | undefined> = {}): Promise<Binary> {
  const given = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const banner = kind === "combined" ? /\n\s+redis\s+\S/ : /listening on http:\/\/\S+\n/;
  const running = await start([...COMMANDS[kind]], { ...baseEnv(dataDir(kind)), NODE_ENV: "development", ...SECRETS, ...given }, banner);
  const find = (pattern: RegExp) => pattern.exec(running.stdout())?.[1];
  if (kind === "combined") {
    const urls = {
      gateway: find(/^\s+gateway\s+(http:\S+)/m),
      auth: find(/^\s+auth service\s+(http:\S+)/m),
      user: find(/^\s+user service\s+(http:\S+)/m),
    };
    return { ...running, kind, url: urls.gateway ?? "", urls };
  }
  const url = find(/listening on (http:\/\/\S+)/) ?? "";
  return { ...running, kind, url, urls: { [kind]: url } };
}

/** exitWithin resolves with the exit code, or fails if the process is still running after ms. */
export async function exitWithin(binary: Running, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms later:\n${binary.output()}`)), ms);
  });
  return Promise.race([binary.exited, late]).finally(() => clearTimeout(timer));
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

/** cleanup kills every binary still running, removes the data directories and the run's keys in
 * the test Redis; call it in afterAll. */
export async function cleanup(): Promise<void> {
  await Promise.all([...started].map((running) => running.kill()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await withRunStore((store) => deletePrefix(store, REDIS_KEY_PREFIX));
}

/** redisKeys lists the run's keys in the test Redis (empty without one), prefix removed. */
export async function redisKeys(): Promise<string[]> {
  const keys: string[] = [];
  await withRunStore(async ({ redis }) => {
    for await (const batch of scanKeys(redis!, `${REDIS_KEY_PREFIX}*`))
      keys.push(...batch.map((key) => key.slice(REDIS_KEY_PREFIX.length)));
  });
  return keys;
}

async function withRunStore(fn: (store: Store) => Promise<void>): Promise<void> {
  if (!testRedisUrl()) return;
  const store = createStore({ url: testRedisUrl(), prefix: REDIS_KEY_PREFIX, onError: () => {} });
  // ping waits for the connection; store.redis is the raw client, which doesn't.
  await store
    .ping()
    .then(() => fn(store))
    .finally(() => store.close());
}

/** call requests a path of base; a hang fails the test after 15 s instead of stalling the suite. */
export const call = (base: string, path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { signal: AbortSignal.timeout(15_000), ...init });

/** http is call for one gateway, with a JSON body and a bearer token as options. */
export function http(base: string) {
  return (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
    call(base, path, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
}

/** uniqueEmail is an address no other run uses (the PostgreSQL and Redis servers are shared). */
export const uniqueEmail = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

export type ClientCall = { method?: string; body?: unknown; token?: string };

/** fromClient calls the gateway at base as a client at address behind its trusted proxy
 * (X-Forwarded-For): a POST with a JSON body when there is one, a bearer token when given. A hang
 * fails the test. */
export const fromClient = (base: string, address: string, path: string, init: ClientCall = {}) =>
  fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      "x-forwarded-for": address,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });

/** where is host:port/database of a URL, as the banners print it (never the credentials). */
export function where(url: string, defaultPort: string): string {
  const { hostname, port, pathname } = new URL(url);
  return `${hostname}:${port || defaultPort}${pathname === "/" ? "" : pathname}`;
}

/** messageLines are stderr's lines without JSON log records and development-secret notes. */
export const messageLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("{") && !line.startsWith("note: "));
