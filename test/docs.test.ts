import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

test("the README's configuration table lists exactly the variables of .env.example", () => {
  const example = [...read(".env.example").matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
  const section = read("README.md").split("## Configuration")[1]!.split("\n## ")[0]!;
  const documented = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(example.sort());
});

test("the README's quick start has the run and test commands that .ci/run uses", () => {
  const readme = read("README.md");
  expect(readme).toContain("bun install && bun run combined serve");
  expect(readme).toContain("bun install && bun run test");
  expect(read(".ci/run")).toContain("bun install && bun run test");
});
