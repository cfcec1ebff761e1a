// HTTP load from a real tool: wrk (Debian's `wrk`) when it is installed, else autocannon (npm, a
// dev dependency, so `bun install` is enough for CI). wrk is the one to quote: in Bun, autocannon
// saturates its own core near 55k requests/s — below a bare Bun.serve — and reports whole
// milliseconds. Both run pinned to the load core and end in the same result line (result.ts).
import { fileURLToPath } from "node:url";
import { parseResult, type LoadResult } from "./result.ts";

export type LoadSpec = {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  /** paceMs makes each connection wait this long between requests: a light, steady probe. */
  paceMs?: number;
};

export type LoadTool = { name: string; run(spec: LoadSpec, pin: string[]): Promise<LoadResult> };

const WRK_SCRIPT = fileURLToPath(new URL("./wrk.lua", import.meta.url));
const AUTOCANNON = fileURLToPath(import.meta.resolve("autocannon/autocannon.js"));

async function output(cmd: string[], env?: Record<string, string>): Promise<string> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  // Header values (the bearer token) stay out of the message.
  const shown = cmd.map((arg, i) => (cmd[i - 1] === "-H" ? `${arg.split(/[:=]/, 1)[0]}: …` : arg));
  if (code !== 0) throw new Error(`${shown.join(" ")} exited with ${code}:\n${stderr.slice(-2000)}`);
  return stdout;
}

const wrk: LoadTool = {
  name: "wrk",
  async run(spec, pin) {
    const headers = Object.entries(spec.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    const cmd = [
      ...pin,
      "wrk",
      "-t1",
      `-c${spec.connections}`,
      `-d${Math.max(1, Math.round(spec.seconds))}s`,
      "--timeout",
      "10s",
      "-s",
      WRK_SCRIPT,
      ...headers,
      spec.url,
    ];
    return parseResult(
      await output(cmd, { BENCH_METHOD: spec.method ?? "GET", BENCH_BODY: spec.body ?? "", BENCH_PACE_MS: String(spec.paceMs ?? 0) }),
    );
  },
};

type AutocannonJson = {
  requests: { total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
};

const autocannon: LoadTool = {
  name: "autocannon",
  async run(spec, pin) {
    const headers = Object.entries(spec.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}=${v}`]);
    const rate = spec.paceMs ? ["-R", String(Math.round((spec.connections * 1000) / spec.paceMs))] : [];
    const body = spec.body === undefined ? [] : ["-b", spec.body];
    const cmd = [
      ...pin,
      process.execPath,
      AUTOCANNON,
      "--json",
      "-c",
      String(spec.connections),
      "-d",
      String(Math.max(1, Math.round(spec.seconds))),
      "-m",
      spec.method ?? "GET",
      ...body,
      ...headers,
      ...rate,
      spec.url,
    ];
    const json = (await output(cmd)).split("\n").find((line) => line.startsWith("{"));
    if (!json) throw new Error("autocannon printed no JSON result");
    const r = JSON.parse(json) as AutocannonJson;
    return {
      requests: r.requests.total,
      durationUs: r.duration * 1e6,
      errors: r.errors + r.timeouts + r.non2xx,
      p50Us: r.latency.p50 * 1000,
      p99Us: r.latency.p99 * 1000,
    };
  },
};

/** pickLoadTool prefers wrk; BENCH_LOAD_TOOL=autocannon|wrk forces one. */
export function pickLoadTool(): LoadTool {
  const wanted = process.env.BENCH_LOAD_TOOL;
  if (wanted === "autocannon") return autocannon;
  if (wanted === "wrk" || Bun.which("wrk")) return wrk;
  return autocannon;
}
