// The harness, not the figures: one `bun bench/run.ts --quick` must finish and print every row of
// the table and every target with a verdict. No timing is asserted (that is what a miss is for).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { SCENARIOS, TARGETS } from "./report.ts";

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
    TARGETS.hopAdded,
    TARGETS.tracingOff,
  ]) {
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(label)} \\| .+ \\| (PASS|MISS) \\|$`, "m"));
  }
  for (const label of [TARGETS.hop, TARGETS.hopCpu, TARGETS.tracingOn])
    expect(stdout).toMatch(new RegExp(`^\\| ${RegExp.escape(label)} \\| .+ \\| info \\|$`, "m"));
}, 180_000);
