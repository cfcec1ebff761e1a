// A client generated from the live OpenAPI document (openapi-typescript types + openapi-fetch)
// compiles with the repo's TypeScript and runs register → login → GET /users/me against the stack.
// Everything generated lives in a temp dir; node_modules is linked in so imports resolve.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { startTestStack, uniqueEmail, type TestStack } from "../../test/stack.ts";

const PROGRAM = `import createClient from "openapi-fetch";
import type { paths } from "./api.ts";

const [baseUrl, email] = process.argv.slice(2) as [string, string];
const password = "correct horse battery staple";
const api = createClient<paths>({ baseUrl });

const registered = await api.POST("/auth/register", { body: { email, password, name: "Generated Client" } });
if (!registered.data) throw new Error(\`register: \${registered.response.status} \${JSON.stringify(registered.error)}\`);
const login = await api.POST("/auth/login", { body: { email, password } });
if (!login.data) throw new Error(\`login: \${login.response.status} \${JSON.stringify(login.error)}\`);
const me = await api.GET("/users/me", { headers: { Authorization: \`Bearer \${login.data.access_token}\` } });
if (!me.data) throw new Error(\`me: \${me.response.status} \${JSON.stringify(me.error)}\`);
const user: { email: string; role: "user" | "admin"; deleted_at: string | null } = me.data;
console.log(user.email);

// Never called: proves the generated types are precise (each line must fail to compile).
export function mistakes() {
  // @ts-expect-error: not a route of this API
  void api.GET("/users/everyone");
  // @ts-expect-error: register needs a name
  void api.POST("/auth/register", { body: { email, password } });
  // @ts-expect-error: a user has no password field
  void me.data?.password;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ESNext",
    module: "Preserve",
    moduleResolution: "bundler",
    lib: ["ESNext"],
    types: ["bun"],
    strict: true,
    noUncheckedIndexedAccess: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ["*.ts"],
};

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), "openapi-client-"));
  symlinkSync(join(import.meta.dir, "../../node_modules"), join(dir, "node_modules"), "dir");
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack.close();
});

async function run(cmd: string[]) {
  const proc = Bun.spawn(cmd, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code: proc.exitCode, stdout, stderr };
}

test("a client generated from /api-docs/openapi.json typechecks and runs register → login → me", async () => {
  const types = astToString(await openapiTS(new URL(`${stack.url}/api-docs/openapi.json`)));
  expect(types).toContain('"/users/me"');
  writeFileSync(join(dir, "api.ts"), types);
  writeFileSync(join(dir, "client.ts"), PROGRAM);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));

  const tsc = await run([process.execPath, Bun.resolveSync("typescript/bin/tsc", import.meta.dir), "--noEmit", "-p", dir]);
  expect({ code: tsc.code, output: tsc.stdout + tsc.stderr }).toEqual({ code: 0, output: "" });

  const email = uniqueEmail("client");
  const client = await run([process.execPath, join(dir, "client.ts"), stack.url, email]);
  expect({ code: client.code, stdout: client.stdout.trim(), stderr: client.stderr }).toEqual({ code: 0, stdout: email, stderr: "" });
}, 60_000);
