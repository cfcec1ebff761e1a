// The single-file executable needs nothing beside it: build `combined` once, copy it into empty
// directories and run it there on the embedded defaults (PGlite under .data/, the in-process store).
// Registering a user goes through Prisma's WebAssembly query compiler, PGlite's wasm and argon2, so
// a missing embedded asset fails here rather than on a user's machine.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, linkSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrations } from "../gen/migrations.ts";
import { buildExecutable } from "../scripts/build.ts";

const scratch = mkdtempSync(join(tmpdir(), "compile-test-"));
let executable = "";

beforeAll(async () => {
  executable = await buildExecutable("combined", join(scratch, "build", "combined"));
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** freshCopy puts the executable alone in a new, empty directory (a hard link: 130 MB each otherwise). */
function freshCopy(name: string): { dir: string; bin: string } {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const bin = join(dir, "combined");
  try {
    linkSync(executable, bin);
  } catch {
    copyFileSync(executable, bin);
  }
  expect(readdirSync(dir)).toEqual(["combined"]);
  return { dir, bin };
}

// Nothing from the test process (DATABASE_URL, NODE_ENV=test, a developer's secrets) leaks in.
const bareEnv = (dir: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir });

async function freePorts(count: number): Promise<number[]> {
  const sockets = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = sockets.map((socket) => socket.port);
  for (const socket of sockets) socket.stop(true);
  return ports;
}

describe("the compiled combined executable", () => {
  test("migrate up applies the embedded migrations to the embedded database", async () => {
    const { dir, bin } = freshCopy("migrate");
    const run = Bun.spawn([bin, "migrate", "up"], { cwd: dir, env: bareEnv(dir), stdout: "pipe", stderr: "pipe" });
    const [code, stdout, stderr] = await Promise.all([run.exited, new Response(run.stdout).text(), new Response(run.stderr).text()]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("embedded PGlite at .data/pglite");
    for (const { name } of migrations) expect(stdout).toContain(`applied  ${name}`);
    expect(stdout).toContain(`${migrations.length} applied, 0 pending.`);
  }, 60_000);

  test("serve starts with embedded defaults, serves /health and the API, and exits 0 on SIGTERM", async () => {
    const { dir, bin } = freshCopy("serve");
    const [gateway, auth, user] = (await freePorts(3)).map(String) as [string, string, string];
    const proc = Bun.spawn([bin, "serve", "--gateway-port", gateway, "--auth-port", auth, "--user-port", user], {
      cwd: dir,
      env: bareEnv(dir),
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then((parts) => parts.join("\n"));
    const base = `http://127.0.0.1:${gateway}`;
    try {
      let health = 0;
      const deadline = Date.now() + 45_000;
      while (health !== 200 && proc.exitCode === null && Date.now() < deadline) {
        health = await fetch(`${base}/health`).then(
          (r) => r.status,
          () => 0,
        );
        if (health !== 200) await Bun.sleep(200);
      }
      if (health !== 200) {
        proc.kill("SIGKILL");
        throw new Error(`no 200 from /health (last ${health}, exit ${proc.exitCode}):\n${await output}`);
      }

      const register = await fetch(`${base}/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "ada@example.com", password: "correct horse battery staple", name: "Ada Lovelace" }),
      });
      expect(register.status).toBe(201);
      expect(await register.json()).toHaveProperty("access_token");
      const asset = await fetch(`${base}/swagger-ui/swagger-ui-bundle.js`);
      expect(asset.status).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    } finally {
      proc.kill("SIGTERM");
    }
    const code = await proc.exited;
    expect({ code, output: code === 0 ? "" : await output }).toEqual({ code: 0, output: "" });
  }, 90_000);
});
