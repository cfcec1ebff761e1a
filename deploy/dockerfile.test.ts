// The image can't be built here (no Docker engine), so its one failure mode that needs no build is
// checked from the text: every top-level folder that shipped code imports is copied in.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

test("the Dockerfile copies every folder the binaries import at run time", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/\S*$/gm)].map((m) => m[1]);
  // What the four entry points reach: their own folders, the shared platform, generated code.
  for (const folder of ["gen", "lib", "services", "gateway", "combined"]) expect(copied).toContain(folder);
});
