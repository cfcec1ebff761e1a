// `bun run test`: typecheck, lint and format check (Biome), then every suite (bun test), then one
// closing line that any CI reads: "N passed, N failed, N skipped".
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (cmd: string[]) => Bun.spawnSync(cmd, { stdio: ["inherit", "inherit", "inherit"] }).exitCode;

console.log("$ tsc --noEmit");
if (run(["bunx", "tsc", "--noEmit"]) !== 0) process.exit(1);
console.log("$ biome ci .");
if (run(["bunx", "biome", "ci", "--colors=off", "."]) !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), "bun-api-starter-test-"));
const report = join(dir, "junit.xml");
const code = run(["bun", "test", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)]);

let summary = "";
try {
  const xml = readFileSync(report, "utf8");
  const suites = xml.match(/<testsuites[^>]*>/)?.[0] ?? "";
  const attr = (name: string) => Number(suites.match(new RegExp(`${name}="(\\d+)"`))?.[1] ?? 0);
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  summary = `${attr("tests") - failed - skipped} passed, ${failed} failed, ${skipped} skipped`;
} catch {
  summary = "0 passed, 1 failed";
}
rmSync(dir, { recursive: true, force: true });
console.log(`\n${summary}`);
process.exit(code === 0 ? 0 : 1);
