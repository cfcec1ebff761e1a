// Prometheus metrics (prom-client): one registry per process — in combined mode one endpoint shows
// the gateway and both services — with every metric the binaries record declared here, so a reader
// finds the names, labels and buckets in one place. Every label takes values from a closed set
// (route templates, RPC method names, code names, command names), never a raw path or an id, so
// the number of series is bounded by the code, not by the traffic.
import { createHash, timingSafeEqual } from "node:crypto";
import client from "prom-client";
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };

/** metricsEnv is METRICS_TOKEN: when set, a scrape must present it as a bearer token. */
export const metricsEnv = {
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
};

/** registry holds this process's metrics; metricsResponse renders it. */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
// Gauges that prom-client names like counters, which promtool check metrics refuses; the
// nodejs_active_handles / _requests / _resources gauges without the suffix stay.
for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
  registry.removeSingleMetric(name);
}

const registers = [registry];
// Request latencies: 1 ms to 10 s.
const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Store and database commands: 0.1 ms to 1 s.
const COMMAND = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export const metrics = {
  httpRequests: new client.Counter({
    name: "http_requests_total",
    help: "HTTP requests answered by the gateway, by route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  }),
  httpDuration: new client.Histogram({
    name: "http_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by route template and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY,
    registers,
  }),
  rpcServerRequests: new client.Counter({
    name: "rpc_server_requests_total",
    help: "RPCs answered by this process, by service, method and code.",
    labelNames: ["service", "method", "code"] as const,
    registers,
  }),
  rpcServerDuration: new client.Histogram({
    name: "rpc_server_duration_seconds",
    help: "Time to answer an RPC, by service, method and code.",
    labelNames: ["service", "method", "code"] as const,
    buckets: LATENCY,
    registers,
  }),
  rpcClientRequests: new client.Counter({
    name: "rpc_client_requests_total",
    help: "RPCs this process made, by service, method and code.",
    labelNames: ["service", "method", "code"] as const,
    registers,
  }),
  rpcClientDuration: new client.Histogram({
    name: "rpc_client_duration_seconds",
    help: "Time an RPC this process made took, by service, method and code.",
    labelNames: ["service", "method", "code"] as const,
    buckets: LATENCY,
    registers,
  }),
  rateLimitDecisions: new client.Counter({
    name: "rate_limit_decisions_total",
    help: "Rate-limit decisions by policy: allowed, denied, or unavailable (the store is down: denied, failing closed).",
    labelNames: ["policy", "decision"] as const,
    registers,
  }),
  argon2QueueDepth: new client.Gauge({
    name: "argon2_queue_depth",
    help: "Password hashes and verifications waiting for a hashing slot.",
    registers,
  }),
  argon2Duration: new client.Histogram({
    name: "argon2_duration_seconds",
    help: "Time an Argon2id hash or verification took on its thread.",
    labelNames: ["operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  }),
  redisDuration: new client.Histogram({
    name: "redis_command_duration_seconds",
    help: "Redis command round trips, by command.",
    labelNames: ["command"] as const,
    buckets: COMMAND,
    registers,
  }),
  redisErrors: new client.Counter({
    name: "redis_errors_total",
    help: "Redis commands that failed, by command.",
    labelNames: ["command"] as const,
    registers,
  }),
  dbDuration: new client.Histogram({
    name: "db_query_duration_seconds",
    help: "PostgreSQL queries as Prisma ran them, by statement kind.",
    labelNames: ["operation"] as const,
    buckets: COMMAND,
    registers,
  }),
  dbErrors: new client.Counter({ name: "db_errors_total", help: "Database operations that failed.", registers }),
  dbPool: new client.Gauge({
    name: "db_pool_connections",
    help: "PostgreSQL pool connections: total, idle, and requests waiting for one.",
    labelNames: ["state"] as const,
    registers,
  }),
  dependencyUp: new client.Gauge({
    name: "dependency_up",
    help: "1 when the dependency answered its last health check, 0 when not.",
    labelNames: ["dependency"] as const,
    registers,
  }),
  userCache: new client.Counter({
    name: "user_cache_requests_total",
    help: "User-cache reads, by result.",
    labelNames: ["result"] as const,
    registers,
  }),
  buildInfo: new client.Gauge({
    name: "build_info",
    help: "Always 1; the labels name the running build.",
    labelNames: ["version", "commit"] as const,
    registers,
  }),
};

/** seriesOf remembers what make builds per label values (a metric's series, series.ts), so a
 * request finds them by one Map lookup. */
export function seriesOf<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const made = new Map<string, T>();
  return (...values) => {
    const key = values.join("\u0000");
    let found = made.get(key);
    if (found === undefined) {
      found = make(...values);
      made.set(key, found);
    }
    return found;
  };
}

// The commit: BUILD_COMMIT (an image's build argument), else the checkout's, else "unknown".
function buildCommit(): string {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT.slice(0, 40);
  try {
    const git = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: import.meta.dir, stderr: "ignore" });
    const commit = git.stdout.toString().trim();
    return git.exitCode === 0 && /^[0-9a-f]{7,40}$/.test(commit) ? commit : "unknown";
  } catch {
    return "unknown"; // no git here (an image, a compiled binary)
  }
}

let buildRecorded = false;

const digest = (value: string) => createHash("sha256").update(value).digest();

// Gauges read from their source when scraped (a pool's counts), rather than kept up to date.
const onScrape = new Set<() => void>();

/** sampleOnScrape runs sample before every scrape until the returned function is called. */
export function sampleOnScrape(sample: () => void): () => void {
  onScrape.add(sample);
  return () => onScrape.delete(sample);
}

/** metricsResponse answers a scrape: Prometheus text format; with a token set, only to `Authorization: Bearer <token>`. */
export async function metricsResponse(request: Request, token?: string): Promise<Response> {
  const presented = request.headers.get("authorization") ?? "";
  if (token && !timingSafeEqual(digest(presented), digest(`Bearer ${token}`))) {
    return new Response("metrics need Authorization: Bearer <METRICS_TOKEN>\n", {
      status: 401,
      headers: { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="metrics"' },
    });
  }
  // On the first scrape, not at start: finding the commit may run git, which a CLI run doesn't need.
  if (!buildRecorded) {
    metrics.buildInfo.set({ version: pkg.version, commit: buildCommit() }, 1);
    buildRecorded = true;
  }
  for (const sample of onScrape) sample();
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
}
