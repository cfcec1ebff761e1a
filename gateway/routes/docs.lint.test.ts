// The live OpenAPI document passes Redocly's recommended ruleset with no errors. Redocly runs
// offline: telemetry and the update notice are off, and the ruleset ships inside the package.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestStack, type TestStack } from "../../test/stack.ts";

const CONFIG = `extends:
  - recommended
telemetry: off
`;

type LintReport = {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: "error" | "warn"; message: string; location: { pointer: string }[] }[];
};

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), "openapi-lint-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack.close();
});

test("redocly lint (recommended rules) finds no errors in /api-docs/openapi.json", async () => {
  writeFileSync(join(dir, "openapi.json"), await (await stack.fetch("/api-docs/openapi.json")).text());
  writeFileSync(join(dir, "redocly.yaml"), CONFIG);
  const cli = Bun.resolveSync("@redocly/cli/bin/cli.js", import.meta.dir);
  const lint = Bun.spawn([process.execPath, cli, "lint", "openapi.json", "--format=json"], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(lint.stdout).text(), new Response(lint.stderr).text(), lint.exited]);
  let report: LintReport;
  try {
    report = JSON.parse(stdout) as LintReport;
  } catch {
    throw new Error(`redocly printed no JSON report (exit ${lint.exitCode}):\n${stdout}\n${stderr}`);
  }
  const line = (p: LintReport["problems"][number]) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ""}: ${p.message}`;
  // Warnings are allowed, but shown, so that a new one is noticed.
  for (const warning of report.problems.filter((p) => p.severity !== "error")) console.info(`[redocly] ${line(warning)}`);
  expect(report.problems.filter((p) => p.severity === "error").map(line)).toEqual([]);
  expect(lint.exitCode).toBe(0);
}, 30_000);
