// The run's output: one markdown table of measurements, each figure also as a ratio to the bare
// Bun.serve baseline of the same run, then the targets (PASS/MISS; a miss never fails the run).
import type { LoadResult } from "./result.ts";

/** SCENARIOS are the table's rows, in order; the first is the baseline. */
export const SCENARIOS = {
  bare: "bare Bun.serve (baseline)",
  meCombined: "GET /users/me · combined",
  meTraced: "GET /users/me · combined, tracing on (100 % sampled, OTLP to a local sink)",
  login: "POST /auth/login · combined",
  probeIdle: "GET /users/me · paced probe, idle",
  probeFlood: "GET /users/me · paced probe, login flood",
  flood: "POST /auth/login · the flood itself",
  verify: "Bun.password.verify loop (argon2id m=19456 t=2)",
  meSplit: "GET /users/me · split (gateway → Connect hop)",
  grpcDirect: "GetUser · gRPC direct to the user service",
  hopInProcess: "GetUser · in-process (combined mode's call)",
  hopConnect: "GetUser · Connect hop to the user service (client + service)",
} as const;

/** OPTIONAL_SCENARIOS are rows measured only when their servers can run here (a printed reason otherwise). */
export const OPTIONAL_SCENARIOS = {
  meCluster: "GET /users/me · combined on a 3-master Redis Cluster",
} as const;

/** TARGETS are the comparisons printed under the table. */
export const TARGETS = {
  combined: "GET /users/me combined ÷ bare (req/s)",
  split: "GET /users/me split ÷ bare (req/s)",
  login: "POST /auth/login ÷ raw verify loop (req/s)",
  flood: "GET /users/me p99 during a login flood ÷ idle",
  hop: "GetUser through the gateway (split) ÷ direct gRPC (req/s)",
  hopCpu: "server CPU per request: GetUser through the gateway (3 processes) ÷ direct",
  splitFloor: "GET /users/me split ÷ bare (req/s), issue 12",
  splitCpu: "GET /users/me split: CPU per request, 3 processes",
  combinedCpu: "GET /users/me combined: CPU per request, issue 12",
  hopAdded: "GetUser: CPU the hop adds per call (client + service − in-process)",
  tracingOff: "tracing off: CPU the instrumentation's checks add per GET /users/me (target: 2 % of its CPU)",
  tracingOn: "tracing on: CPU per GET /users/me ÷ tracing off",
  cluster: "GET /users/me on a 3-master Redis Cluster ÷ on one node (req/s)",
} as const;

export type Row = { label: string; result: LoadResult; rssBytes: number; cpuUsPerRequest: number };
/** Target compares a ratio (×) or, with a unit, a CPU time. */
export type Target = { label: string; value: number; unit?: "µs" | "ns"; goal?: { op: ">=" | "<="; value: number } };

export const rps = (r: LoadResult) => r.requests / (r.durationUs / 1e6);

const num = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "—";
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(a / b < 10 ? 3 : 1)}×` : "—");
const time = (us: number) => (!Number.isFinite(us) ? "—" : us < 1000 ? `${num(us)} µs` : `${num(us / 1000, 2)} ms`);
const mib = (bytes: number) => (Number.isFinite(bytes) ? `${num(bytes / 2 ** 20)} MiB` : "—");

/** table renders the rows; the first is the baseline. */
export function table(rows: Row[]): string {
  const base = rows[0]!;
  const lines = [
    "| Scenario | req/s | × base | p50 | × base | p99 | × base | errors | server RSS | × base | server CPU/req |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const { label, result: r, rssBytes, cpuUsPerRequest } of rows) {
    lines.push(
      `| ${label} | ${num(rps(r))} | ${ratio(rps(r), rps(base.result))} | ${time(r.p50Us)} | ${ratio(r.p50Us, base.result.p50Us)} | ${time(r.p99Us)} | ${ratio(r.p99Us, base.result.p99Us)} | ${num(r.errors)} | ${mib(rssBytes)} | ${ratio(rssBytes, base.rssBytes)} | ${time(cpuUsPerRequest)} |`,
    );
  }
  return lines.join("\n");
}

/** targets renders each comparison with its goal and verdict. */
export function targets(items: Target[]): string {
  const lines = ["| Comparison | Measured | Target | Result |", "|---|--:|--:|---|"];
  for (const { label, value, unit, goal } of items) {
    const suffix = unit ? ` ${unit}` : "×";
    const shown = Number.isFinite(value) ? (unit ? `${value.toFixed(1)}${suffix}` : `${value.toFixed(3)}×`) : "—";
    if (!goal) {
      lines.push(`| ${label} | ${shown} | — | info |`);
      continue;
    }
    const pass = goal.op === ">=" ? value >= goal.value : value <= goal.value;
    const bound = unit === "ns" ? goal.value.toFixed(0) : goal.value;
    lines.push(
      `| ${label} | ${shown} | ${goal.op === ">=" ? "≥" : "≤"} ${bound}${suffix} | ${Number.isFinite(value) && pass ? "PASS" : "MISS"} |`,
    );
  }
  return lines.join("\n");
}
