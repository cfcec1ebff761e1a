#!/usr/bin/env bun
// `bun run bench [--quick]`: measures the real binaries against a bare Bun.serve in the same run
// and prints a markdown table and the targets (BENCHMARKS.md). Servers on one core, load on the
// other (taskset); PostgreSQL and Redis when they answer, each in a throwaway database. --quick
// uses 1 s runs and no warm-up, so CI can keep the harness from rotting; its figures mean nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBenchBackends } from "./backends.ts";
import { pickLoadTool, type LoadSpec } from "./load.ts";
import { cpuSeconds, freePorts, httpOk, pinning, rssBytes, spawn, stopAll, waitFor, type Proc } from "./processes.ts";
import { parseResult, type LoadResult } from "./result.ts";
import { OPTIONAL_SCENARIOS, rps, SCENARIOS, table, targets, TARGETS, type Row } from "./report.ts";
import { clusterSkipReason, startRedisCluster } from "../test/redis-cluster.ts";
import { tracingOffNsPerRequest } from "./tracing-off.ts";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 1 : 10;
const WARMUP_SECONDS = quick ? 0 : 2;
const CONNECTIONS = 50;
const PROBE = { connections: 2, paceMs: 10 }; // ≈ 200 requests/s: light enough not to load the server itself
const FLOOD_CONNECTIONS = 32;
const PASSWORD = "correct horse battery staple";

const tool = pickLoadTool();
const pin = pinning();
const dir = mkdtempSync(join(tmpdir(), "bench-"));
const backends = await createBenchBackends();
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: process.env.HOME ?? dir,
  NODE_ENV: "development",
  DATA_DIR: dir,
  SERVER_HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
  GATEWAY_TOKEN: crypto.randomUUID() + crypto.randomUUID(),
  AUTH_SERVICE_TOKEN: crypto.randomUUID() + crypto.randomUUID(),
  OPERATOR_TOKEN: crypto.randomUUID() + crypto.randomUUID(),
  RATE_LIMIT_REQUESTS: "1000000000",
  RATE_LIMIT_AUTH_REQUESTS: "1000000000",
  LOGIN_ATTEMPTS_PER_ACCOUNT: "1000000000",
  REFRESH_TOKEN_TTL_DAYS: "1",
  ...backends.env,
};
const rows = new Map<string, Row>(); // by label, in the order measured

let interrupted = false;
async function cleanup() {
  await stopAll();
  await backends.drop();
  rmSync(dir, { recursive: true, force: true });
}
process.once("SIGINT", () => {
  interrupted = true; // the load under way then fails: that is no news
  void cleanup().finally(() => process.exit(130));
});

/** measure runs load against the processes, sampling their CPU time and peak RSS. */
async function measure(label: string, pids: () => number[], run: () => Promise<LoadResult>, opts: { cpu?: boolean } = {}): Promise<Row> {
  let rss = 0;
  const sample = () => {
    const now = rssBytes(pids());
    if (Number.isFinite(now)) rss = Math.max(rss, now);
  };
  const timer = setInterval(sample, 250);
  const cpuBefore = cpuSeconds(pids());
  const result = await run();
  const cpu = cpuSeconds(pids()) - cpuBefore;
  sample();
  clearInterval(timer);
  const row = {
    label,
    result,
    rssBytes: rss || Number.NaN,
    // A loop that measured its CPU itself (hop-loop.ts) counts both of its sides; others are read here.
    cpuUsPerRequest: opts.cpu === false ? Number.NaN : (result.cpuUsPerRequest ?? (cpu * 1e6) / result.requests),
  };
  rows.set(label, row);
  console.error(`[bench] ${label}: ${Math.round(rps(result))} req/s, ${result.errors} errors`);
  return row;
}

/** measureLoad warms the processes up with the same load (outside the measurement), then measures it. */
async function measureLoad(
  label: string,
  pids: () => number[],
  spec: Omit<LoadSpec, "seconds">,
  opts: { warm?: boolean; cpu?: boolean } = {},
): Promise<Row> {
  if (opts.warm !== false && WARMUP_SECONDS > 0) await tool.run({ ...spec, seconds: WARMUP_SECONDS }, pin.load);
  return measure(label, pids, () => tool.run({ ...spec, seconds: SECONDS }, pin.load), opts);
}

/** loop runs one of bench/'s load loops on the given core and reads its result line. */
function loop(args: string[], core: string[]): { pid: () => number[]; done: Promise<LoadResult> } {
  // The run's environment: the gRPC and hop loads call the user service as the gateway does, with
  // the gateway's secret, and the in-process hop opens the run's database and Redis.
  const proc = Bun.spawn([...core, process.execPath, ...args], {
    cwd: join(import.meta.dir, ".."),
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  return { pid: () => [proc.pid], done: new Response(proc.stdout).text().then(parseResult) };
}

const json = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

try {
  // 1. The baseline.
  {
    const [port] = freePorts(1);
    const bare = spawn("bare", ["bench/bare.ts"], { env: { ...env, PORT: String(port) }, pin: pin.server, logFile: join(dir, "bare.log") });
    await waitFor("bare Bun.serve", httpOk(`http://127.0.0.1:${port}/`), [bare]);
    await measureLoad(SCENARIOS.bare, () => [bare.pid], { url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS });
    await bare.stop();
  }

  // 2. Combined mode: /users/me, login, and /users/me's latency with and without a login flood.
  const email = `bench-${crypto.randomUUID().slice(0, 8)}@example.com`;
  {
    const [gw, auth, user] = freePorts(3) as [number, number, number];
    const base = `http://127.0.0.1:${gw}`;
    const combined = spawn(
      "combined",
      ["combined/main.ts", "serve", "--gateway-port", String(gw), "--auth-port", String(auth), "--user-port", String(user)],
      {
        env,
        pin: pin.server,
        logFile: join(dir, "combined.log"),
      },
    );
    await waitFor("combined serve", httpOk(`${base}/health/live`), [combined], 60_000);
    const reg = await fetch(`${base}/auth/register`, json("POST", { email, password: PASSWORD, name: "Bench" }));
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
    const { access_token } = (await reg.json()) as { access_token: string };
    const me = { url: `${base}/users/me`, headers: { authorization: `Bearer ${access_token}` } };
    if (!(await fetch(me.url, { headers: me.headers })).ok) throw new Error("GET /users/me failed"); // and caches the user
    // Sign-ins use an account of their own: each starts a session, and beyond a user's 100 live
    // sessions the oldest ends, which would end the probe's.
    const loginEmail = `login-${email}`;
    const signUp = await fetch(`${base}/auth/register`, json("POST", { email: loginEmail, password: PASSWORD, name: "Bench" }));
    if (signUp.status !== 201) throw new Error(`register answered ${signUp.status}: ${await signUp.text()}`);
    const login = {
      url: `${base}/auth/login`,
      method: "POST" as const,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: loginEmail, password: PASSWORD }),
    };
    const pids = () => [combined.pid];

    await measureLoad(SCENARIOS.meCombined, pids, { ...me, connections: CONNECTIONS });
    await measureLoad(SCENARIOS.login, pids, { ...login, connections: 4 });
    await measureLoad(SCENARIOS.probeIdle, pids, { ...me, ...PROBE });
    // The flood starts first and ends last, so the whole probe runs under it.
    const flood = measure(SCENARIOS.flood, pids, () =>
      tool.run({ ...login, connections: FLOOD_CONNECTIONS, seconds: SECONDS + 2 }, pin.load),
    );
    await Bun.sleep(700);
    await measureLoad(SCENARIOS.probeFlood, pids, { ...me, ...PROBE }, { warm: false, cpu: false });
    await flood;
    await combined.stop();
  }

  // 2b. The same combined /users/me with tracing on: every span sampled and exported over OTLP to a
  // sink here that accepts and drops them (the SDK's default batch limits apply).
  {
    const sink = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(new Uint8Array(), { headers: { "content-type": "application/x-protobuf" } }),
    });
    const [gw, auth, user] = freePorts(3) as [number, number, number];
    const base = `http://127.0.0.1:${gw}`;
    const traced = spawn(
      "combined-traced",
      ["combined/main.ts", "serve", "--gateway-port", String(gw), "--auth-port", String(auth), "--user-port", String(user)],
      { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}` }, pin: pin.server, logFile: join(dir, "traced.log") },
    );
    await waitFor("combined serve (traced)", httpOk(`${base}/health/live`), [traced], 60_000);
    const reg = await fetch(`${base}/auth/register`, json("POST", { email: `traced-${email}`, password: PASSWORD, name: "Bench" }));
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
    const { access_token } = (await reg.json()) as { access_token: string };
    const me = { url: `${base}/users/me`, headers: { authorization: `Bearer ${access_token}` } };
    if (!(await fetch(me.url, { headers: me.headers })).ok) throw new Error("GET /users/me failed");
    await measureLoad(SCENARIOS.meTraced, () => [traced.pid], { ...me, connections: CONNECTIONS });
    await traced.stop();
    sink.stop(true);
  }

  // 2c. The same combined /users/me on a throwaway 3-master Redis Cluster (Debian's redis-server, not
  // pinned, like the single node): the rate-limit hit and the user's keys are two commands there.
  if (clusterSkipReason || !env.REDIS_URL) {
    console.error(`[bench] ${OPTIONAL_SCENARIOS.meCluster}: skipped, ${clusterSkipReason ?? "no single-node Redis to compare with"}`);
  } else {
    const cluster = await startRedisCluster(3);
    try {
      const [gw, auth, user] = freePorts(3) as [number, number, number];
      const base = `http://127.0.0.1:${gw}`;
      const { REDIS_URL: _single, ...rest } = env;
      const onCluster = spawn(
        "combined-cluster",
        ["combined/main.ts", "serve", "--gateway-port", String(gw), "--auth-port", String(auth), "--user-port", String(user)],
        { env: { ...rest, REDIS_CLUSTER_NODES: cluster.nodes.join(",") }, pin: pin.server, logFile: join(dir, "cluster.log") },
      );
      await waitFor("combined serve (cluster)", httpOk(`${base}/health/live`), [onCluster], 60_000);
      const reg = await fetch(`${base}/auth/register`, json("POST", { email: `cluster-${email}`, password: PASSWORD, name: "Bench" }));
      if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
      const { access_token } = (await reg.json()) as { access_token: string };
      const me = { url: `${base}/users/me`, headers: { authorization: `Bearer ${access_token}` } };
      if (!(await fetch(me.url, { headers: me.headers })).ok) throw new Error("GET /users/me (cluster) failed");
      await measureLoad(OPTIONAL_SCENARIOS.meCluster, () => [onCluster.pid], { ...me, connections: CONNECTIONS });
      await onCluster.stop();
    } finally {
      await cluster.close();
    }
  }

  // 3. The raw password check, on the server's core, as many at once as the auth service allows.
  {
    const verify = loop(["bench/verify-loop.ts", String(SECONDS)], pin.server);
    await measure(SCENARIOS.verify, verify.pid, () => verify.done, { cpu: false });
  }

  // 4. Split mode: three binaries, the gateway and the auth service reaching the services' internal
  // Connect listeners; then gRPC straight to the user service, and the hop alone.
  {
    const [gw, auth, user, authInternal, userInternal] = freePorts(5) as [number, number, number, number, number];
    const internal = { AUTH_SERVICE_INTERNAL_PORT: String(authInternal), USER_SERVICE_INTERNAL_PORT: String(userInternal) };
    const userUrl = `http://127.0.0.1:${userInternal}`;
    const healthy = (port: number) => async () =>
      (
        await fetch(`http://127.0.0.1:${port}/grpc.health.v1.Health/Check`, {
          ...json("POST", { service: "" }),
          signal: AbortSignal.timeout(1000),
        })
      ).ok;
    const procs: Proc[] = [];
    const start = (name: string, args: string[], extra: Record<string, string>) => {
      procs.push(spawn(name, args, { env: { ...env, ...extra }, pin: pin.server, logFile: join(dir, `${name}.log`) }));
    };
    start("user-service", ["services/user/main.ts", "serve", "--port", String(user)], internal);
    await waitFor("user service", healthy(userInternal), procs, 60_000);
    start("auth-service", ["services/auth/main.ts", "serve", "--port", String(auth)], { ...internal, USER_SERVICE_URL: userUrl });
    await waitFor("auth service", healthy(authInternal), procs);
    start("gateway", ["gateway/main.ts", "serve", "--port", String(gw)], {
      AUTH_SERVICE_URL: `http://127.0.0.1:${authInternal}`,
      USER_SERVICE_URL: userUrl,
    });
    await waitFor("gateway", httpOk(`http://127.0.0.1:${gw}/health/live`), procs);

    const res = await fetch(`http://127.0.0.1:${gw}/auth/login`, json("POST", { email, password: PASSWORD }));
    if (!res.ok) throw new Error(`split login answered ${res.status}: ${await res.text()}`);
    const session = (await res.json()) as { access_token: string; user: { id: string } };
    const me = { url: `http://127.0.0.1:${gw}/users/me`, headers: { authorization: `Bearer ${session.access_token}` } };
    if (!(await fetch(me.url, { headers: me.headers })).ok) throw new Error("GET /users/me (split) failed");

    await measureLoad(SCENARIOS.meSplit, () => procs.map((p) => p.pid), { ...me, connections: CONNECTIONS });
    const grpcArgs = (seconds: number) => [
      "bench/grpc-load.ts",
      `http://127.0.0.1:${user}`,
      session.user.id,
      String(CONNECTIONS),
      String(seconds),
    ];
    if (WARMUP_SECONDS > 0) await loop(grpcArgs(WARMUP_SECONDS), pin.load).done;
    const direct = loop(grpcArgs(SECONDS), pin.load);
    await measure(
      SCENARIOS.grpcDirect,
      () => [procs[0]!.pid],
      () => direct.done,
    );

    // The hop alone: the same GetUser in-process, then across processes; both on the server core.
    const hopArgs = (target: string, pid?: number) => [
      "bench/hop-loop.ts",
      target,
      session.user.id,
      String(CONNECTIONS),
      String(SECONDS),
      String(WARMUP_SECONDS),
      ...(pid ? [String(pid)] : []),
    ];
    const inProcess = loop(hopArgs("in-process"), pin.server);
    await measure(SCENARIOS.hopInProcess, inProcess.pid, () => inProcess.done);
    const userPid = procs[0]!.pid;
    const hop = loop(hopArgs(userUrl, userPid), pin.server);
    await measure(
      SCENARIOS.hopConnect,
      () => [...hop.pid(), userPid],
      () => hop.done,
    );
    for (const p of procs.reverse()) await p.stop();
  }
} catch (error) {
  if (interrupted) await new Promise(() => {}); // the SIGINT handler cleans up and exits
  await cleanup();
  console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
}
await cleanup();

const get = (label: string) => rows.get(label)!;
const bare = get(SCENARIOS.bare).result;
const probeIdle = get(SCENARIOS.probeIdle).result;
const probeFlood = get(SCENARIOS.probeFlood).result;
const split = get(SCENARIOS.meSplit).result;
const direct = get(SCENARIOS.grpcDirect).result;

console.log(`## bun run bench${quick ? " --quick (1 s runs: the figures mean nothing)" : ""}

- load: ${tool.name}, ${CONNECTIONS} connections, ${SECONDS} s per run${WARMUP_SECONDS ? ` after ${WARMUP_SECONDS} s of warm-up` : ""}; pinning: ${pin.description}
- backends: ${backends.description}; Bun ${Bun.version}; ${navigator.hardwareConcurrency} cores
- servers: LOG_LEVEL=warn (no access-log lines), rate limits raised to 10⁹ per window; PostgreSQL and Redis are not pinned
- probe: ${PROBE.connections} connections, each pausing ${PROBE.paceMs} ms between requests; flood: ${FLOOD_CONNECTIONS} connections of POST /auth/login

${table([...rows.values()])}

${targets([
  { label: TARGETS.combined, value: rps(get(SCENARIOS.meCombined).result) / rps(bare), goal: { op: ">=", value: 0.3 } },
  { label: TARGETS.split, value: rps(split) / rps(bare), goal: { op: ">=", value: 0.15 } },
  { label: TARGETS.login, value: rps(get(SCENARIOS.login).result) / rps(get(SCENARIOS.verify).result), goal: { op: ">=", value: 0.9 } },
  { label: TARGETS.flood, value: probeFlood.p99Us / probeIdle.p99Us, goal: { op: "<=", value: 2 } },
  { label: TARGETS.hop, value: rps(split) / rps(direct) },
  { label: TARGETS.hopCpu, value: get(SCENARIOS.meSplit).cpuUsPerRequest / get(SCENARIOS.grpcDirect).cpuUsPerRequest },
  { label: TARGETS.splitFloor, value: rps(split) / rps(bare), goal: { op: ">=", value: 0.06 } },
  { label: TARGETS.splitCpu, value: get(SCENARIOS.meSplit).cpuUsPerRequest, unit: "µs", goal: { op: "<=", value: 100 } },
  { label: TARGETS.combinedCpu, value: get(SCENARIOS.meCombined).cpuUsPerRequest, unit: "µs", goal: { op: "<=", value: 35 } },
  {
    label: TARGETS.tracingOff,
    value: tracingOffNsPerRequest(),
    unit: "ns",
    goal: { op: "<=", value: 0.02 * get(SCENARIOS.meCombined).cpuUsPerRequest * 1000 },
  },
  { label: TARGETS.tracingOn, value: get(SCENARIOS.meTraced).cpuUsPerRequest / get(SCENARIOS.meCombined).cpuUsPerRequest },
  ...(rows.has(OPTIONAL_SCENARIOS.meCluster)
    ? [{ label: TARGETS.cluster, value: rps(get(OPTIONAL_SCENARIOS.meCluster).result) / rps(get(SCENARIOS.meCombined).result) }]
    : []),
  {
    label: TARGETS.hopAdded,
    value: get(SCENARIOS.hopConnect).cpuUsPerRequest - get(SCENARIOS.hopInProcess).cpuUsPerRequest,
    unit: "µs",
    goal: { op: "<=", value: 40 },
  },
])}`);
