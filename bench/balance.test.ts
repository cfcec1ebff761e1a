// The balancing bench runs and shows what it is for: after a scale-out, per-call balancing over the
// resolved replicas sends the new replica its share at once. No timing is asserted.
import { expect, test } from "bun:test";
import { join } from "node:path";

test("bench:balance prints both routings, and the headless one reaches the new replica", async () => {
  const proc = Bun.spawn([process.execPath, "bench/balance.ts"], {
    cwd: join(import.meta.dir, ".."),
    env: { ...process.env, BALANCE_PHASE_MS: "500" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.error(stderr);
  expect(code).toBe(0);
  const row = (name: string) => stdout.split("\n").find((line) => line.startsWith(`| ${name}`)) ?? "";
  expect(row("ClusterIP")).toMatch(/\| \d+ % \| \d+ % \| \d+ % \|$/);
  const shares =
    row("headless")
      .match(/(\d+) %/g)
      ?.map((share) => Number.parseInt(share, 10)) ?? [];
  expect(shares).toHaveLength(3);
  expect(shares[2]).toBeGreaterThanOrEqual(20);
}, 60_000);
