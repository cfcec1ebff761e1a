// The harness, not the figures: one `bun bench/run.ts --quick` must finish and print every row of
// the table and every target with a verdict. No timing is asserted (that is what a miss is for).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { OPTIONAL_SCENARIOS, SCENARIOS, TARGETS } from "./report.ts";
import { testRedisUrl } from "../test/backends.ts";
import { clusterSkipReason } from "../test/redis-cluster.ts";

test("bench --quick prints the table with every scenario and a verdict for every target", async () => {
  const proc = Bun.spawn([process.execPath, "bench/run.ts", "--quick"], {
    cwd: join(import.meta.dir, ".."),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.error(stderr);
  expect(code).toBe(0);
  expect(stdout).toContain("| Scenario | req/s | × base | p50 | × base | p99 | × base | errors | server RSS | × base | server CPU/req |");
  for (const label of Object.values(SCENARIOS))
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(label)} \\| [\\d,]+ \\| [\\d.]+×`, "m"));
  for (const label of [
    TARGETS.combined,
    TARGETS.split,
    TARGETS.login,
    TARGETS.flood,
    TARGETS.splitFloor,
    TARGETS.splitCpu,
    TARGETS.combinedCpu,
    TARGETS.hopAdded,
    TARGETS.tracingOff,
  ]) {
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(label)} \\| .+ \\| (PASS|MISS) \\|$`, "m"));
  }
  // The cluster row needs redis-server and redis-cli (and a single-node Redis to compare with).
  if (!clusterSkipReason && testRedisUrl()) {
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(OPTIONAL_SCENARIOS.meCluster)} \\| [\\d,]+ \\| [\\d.]+×`, "m"));
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(TARGETS.cluster)} \\| .+ \\| info \\|$`, "m"));
  }
  for (const label of [TARGETS.hop, TARGETS.hopCpu, TARGETS.tracingOn])
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(label)} \\| .+ \\| info \\|$`, "m"));
}, 180_000);
