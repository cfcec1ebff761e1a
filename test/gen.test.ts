// gen/ is committed; these fail when it no longer matches what the generators produce.
import { expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "..");
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` };

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return out;
}

function run(cmd: string[], cwd = root) {
  const result = Bun.spawnSync(cmd, { cwd, env, stderr: "pipe", stdout: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${result.stderr.toString()}`);
}

test("gen/ holds exactly what buf generates from proto/", () => {
  const out = mkdtempSync(join(tmpdir(), "gen-buf-"));
  try {
    run(["buf", "generate", "-o", out]);
    const fresh = files(join(out, "gen"));
    const committed = new Map([...files(join(root, "gen"))].filter(([path]) => !path.startsWith("prisma/") && path !== "migrations.ts"));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [path, text] of fresh) expect(committed.get(path)).toBe(text);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

test("gen/prisma holds exactly what prisma generate makes from the schema", () => {
  const out = mkdtempSync(join(tmpdir(), "gen-prisma-"));
  try {
    // Same relative layout, so the generated client (which inlines the schema) is byte-identical.
    cpSync(join(root, "prisma", "schema.prisma"), join(out, "prisma", "schema.prisma"));
    run(["prisma", "generate", "--schema", join(out, "prisma", "schema.prisma")]);
    const fresh = files(join(out, "gen", "prisma"));
    const committed = files(join(root, "gen", "prisma"));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [path, text] of fresh) expect(committed.get(path)).toBe(text);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

test("gen/migrations.ts embeds the current prisma/migrations", async () => {
  const before = readFileSync(join(root, "gen", "migrations.ts"), "utf8");
  run(["bun", "scripts/gen-migrations.ts"]);
  expect(readFileSync(join(root, "gen", "migrations.ts"), "utf8")).toBe(before);
});
