import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { boundaryViolations, type Import, importsOf, repositoryImports } from "./boundaries.ts";

const ROOT = join(import.meta.dir, "..");

test("the repository keeps its module boundaries", async () => {
  const imports = await repositoryImports(ROOT);
  // The parser really read the tree: a few edges every version of it has.
  expect(imports).toContainEqual({ from: "gateway/app.ts", to: "gateway/deps.ts" });
  expect(imports).toContainEqual({ from: "combined/main.ts", to: "combined/serve.ts" });
  expect(boundaryViolations(imports)).toEqual([]);
});

describe("importsOf", () => {
  test("reads static, type-only, multi-line, re-export, dynamic, worker and spawned-script imports; skips packages", () => {
    const source = [
      `import { z } from "zod";`,
      `import type { Store } from "../lib/redis/types.ts";`,
      `import {\n  a,\n  type B,\n} from "./multi.ts";`,
      `import "./side-effect.ts";`,
      `export { x } from "../lib/x.ts";`,
      `export * from "./all.ts";`,
      `const m = await import("./lazy.ts");`,
      `const worker = new URL("./worker.ts", import.meta.url).href;`,
      // A spawned script's source, as lib/rpc/client.test.ts builds it.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is the text under test
      'const script = `await import(${JSON.stringify(join(import.meta.dir, "../test/helper.ts"))})`;',
    ].join("\n");
    expect(importsOf("gateway/app.ts", source).map((i) => i.to)).toEqual([
      "lib/redis/types.ts",
      "gateway/multi.ts",
      "gateway/side-effect.ts",
      "lib/x.ts",
      "gateway/all.ts",
      "gateway/lazy.ts",
      "gateway/worker.ts",
      "test/helper.ts",
    ]);
  });
});

describe("boundaryViolations", () => {
  const fails = (from: string, to: string, rule: string) => ({ imports: [{ from, to }], rule });
  const cases: Record<string, { imports: Import[]; rule: string }> = {
    "the gateway importing a service": fails("gateway/main.ts", "services/auth/passwords.ts", "the gateway imports only"),
    "the gateway importing combined/": fails("gateway/app.ts", "combined/serve.ts", "the gateway imports only"),
    "a service importing another service": fails(
      "services/auth/auth.ts",
      "services/user/user.store.ts",
      "the auth service imports the user service",
    ),
    "a service importing the gateway": fails("services/user/user.rpc.ts", "gateway/problem.ts", "a service imports only"),
    "lib/ importing a service": fails("lib/rpc/server.ts", "services/user/user.ts", "lib/ is the shared platform"),
    "lib/ importing the gateway": fails("lib/log.ts", "gateway/deps.ts", "lib/ is the shared platform"),
    "production code importing test/": fails("combined/serve.ts", "test/stores.ts", "production code imports a test helper"),
    "production code importing a test file": fails("lib/log.ts", "lib/cli.test.ts", "production code imports a test helper"),
    "a file outside combined/ wiring two services": {
      imports: [
        { from: "scripts/start.ts", to: "services/auth/service.ts" },
        { from: "scripts/start.ts", to: "services/user/service.ts" },
      ],
      rule: "only combined/ and the binaries' main.ts wire services together",
    },
  };
  for (const [name, { imports, rule }] of Object.entries(cases)) {
    test(`fails on ${name}`, () => {
      const violations = boundaryViolations(imports);
      expect(violations).toHaveLength(1);
      expect(violations[0]).toContain(rule);
    });
  }

  test("allows combined/ and tests to use both services, and a service its own files, lib/ and gen/", () => {
    const allowed: Import[] = [
      { from: "combined/serve.ts", to: "services/auth/service.ts" },
      { from: "combined/serve.ts", to: "services/user/service.ts" },
      { from: "combined/serve.ts", to: "gateway/server.ts" },
      { from: "test/stack.ts", to: "services/auth/service.ts" },
      { from: "test/stack.ts", to: "services/user/service.ts" },
      { from: "services/auth/auth.rpc.test.ts", to: "test/services.ts" },
      { from: "services/user/user.ts", to: "services/user/user.store.ts" },
      { from: "services/user/user.ts", to: "lib/redis/index.ts" },
      { from: "gateway/deps.ts", to: "gen/auth/v1/auth_pb.ts" },
      { from: "gateway/main.ts", to: "package.json" },
    ];
    expect(boundaryViolations(allowed)).toEqual([]);
  });

  test("a planted cross-import in a repository makes the check fail", async () => {
    const root = mkdtempSync(join(tmpdir(), "boundaries-"));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write("services/auth/passwords.ts", "export const hash = () => 1;\n");
      write("gateway/app.ts", `import { join } from "node:path";\nexport const app = join;\n`);
      expect(Bun.spawnSync(["git", "init", "-q"], { cwd: root }).exitCode).toBe(0);
      expect(boundaryViolations(await repositoryImports(root))).toEqual([]);

      write("gateway/main.ts", `import { hash } from "../services/auth/passwords.ts";\nhash();\n`);
      expect(boundaryViolations(await repositoryImports(root))).toEqual([
        "gateway/main.ts → services/auth/passwords.ts: the gateway imports only gen/ contracts, lib/, its own files, package.json and npm packages",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
