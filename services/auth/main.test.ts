// End to end: the real auth-service and user-service binaries, each on a free port with its
// embedded defaults (PGlite, in-process store) in its own DATA_DIR, called with @grpc/grpc-js,
// which reads proto/ itself — an independent gRPC implementation, not connect talking to connect.
// (proto-loader's default: fields in camelCase, int64 as Long.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcJsClient, grpcJsMethod, grpcJsUnary } from "../lib/rpc/test-grpc-js.ts";

const ROOT = join(import.meta.dir, "../..");
const SHARED_ENV = {
  INTERNAL_SERVICE_TOKEN: "e2e-internal-token-0123456789abcdefgh",
  JWT_SECRET: "e2e-jwt-secret-0123456789abcdefghijklmnop",
  SERVER_HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
};

const method = (name: string) => grpcJsMethod("auth/v1/auth.proto", "auth.v1.AuthService", name);
const register = method("Register");
const login = method("Login");
const verifyToken = method("VerifyToken");
const refreshToken = method("RefreshToken");
const logout = method("Logout");
const healthCheck = grpcJsMethod("grpc/health/v1/health.proto", "grpc.health.v1.Health", "Check");

type Binary = { proc: Bun.Subprocess<"ignore", "pipe", "pipe">; url: string; dataDir: string };
const started: Binary[] = [];

/** spawnService runs a binary and resolves once its banner names the URL it listens on. */
async function spawnService(script: string, env: Record<string, string> = {}): Promise<Binary> {
  const dataDir = mkdtempSync(join(tmpdir(), "auth-e2e-"));
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...inherited } = process.env;
  const proc = Bun.spawn(["bun", script, "serve", "--port", "0"], {
    cwd: ROOT,
    env: { ...inherited, ...SHARED_ENV, DATA_DIR: dataDir, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const binary = { proc, dataDir, url: "" };
  started.push(binary);
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before listening:\n${out}\n${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  binary.url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
  return binary;
}

/** runToExit runs the auth binary expecting it to stop at startup. */
async function runToExit(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "auth-e2e-"));
  const { DATABASE_URL: _db, REDIS_URL: _redis, JWT_SECRET: _secret, ...inherited } = process.env;
  const proc = Bun.spawn(["bun", "services/auth/main.ts", "serve", "--port", "0"], {
    cwd: ROOT,
    env: { ...inherited, DATA_DIR: dataDir, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  rmSync(dataDir, { recursive: true, force: true });
  return { code, stdout, stderr };
}

let client: grpc.Client;
beforeAll(async () => {
  const users = await spawnService("services/user/main.ts");
  const authService = await spawnService("services/auth/main.ts", { USER_SERVICE_URL: users.url });
  client = grpcJsClient(authService.url);
}, 60_000);

afterAll(async () => {
  client?.close();
  for (const { proc, dataDir } of started) {
    proc.kill();
    await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const call = (m: ReturnType<typeof method>, request: object) => grpcJsUnary(client, m, request, { deadlineMs: 10_000 }).then((r) => r.response);
const failure = (m: ReturnType<typeof method>, request: object) =>
  call(m, request).then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: grpc.ServiceError) => ({ code: error.code, details: error.details }),
  );

describe("auth-service binary over gRPC (grpc-js)", () => {
  const email = `e2e-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "e2e password 123";

  test("Register → Login → VerifyToken returns the user's id, email and role", async () => {
    const registered = await call(register, { email, password, name: "E2E" });
    expect(registered).toMatchObject({ tokenType: "Bearer", user: { email, name: "E2E", role: "user" } });
    expect(String(registered.expiresIn)).toBe("86400");
    const session = await call(login, { email, password });
    const verified = await call(verifyToken, { token: session.accessToken });
    expect(verified).toMatchObject({ userId: (registered.user as { id: string }).id, email, role: "user" });
    expect(JSON.stringify([registered, session])).not.toContain("argon2");
  });

  test("unknown email and wrong password give the identical error", async () => {
    const unknown = await failure(login, { email: `nobody-${email}`, password });
    const wrong = await failure(login, { email, password: "not the password" });
    expect(unknown).toEqual({ code: grpc.status.UNAUTHENTICATED, details: "invalid email or password" });
    expect(wrong).toEqual(unknown);
  });

  test("RefreshToken rotates; Logout makes both the access and the refresh token fail", async () => {
    const session = await call(login, { email, password });
    const refreshed = await call(refreshToken, { refreshToken: session.refreshToken });
    expect(refreshed.refreshToken).not.toBe(session.refreshToken);
    await call(logout, { accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken });
    expect((await failure(verifyToken, { token: refreshed.accessToken })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure(refreshToken, { refreshToken: refreshed.refreshToken })).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test("forged and garbage tokens are Unauthenticated", async () => {
    for (const token of ["", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "x".repeat(64 * 1024)]) {
      expect((await failure(verifyToken, { token })).code).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  test("reports SERVING for auth.v1.AuthService on grpc.health.v1", async () => {
    const { response } = await grpcJsUnary(client, healthCheck, { service: "auth.v1.AuthService" });
    expect(response.status).toBe("SERVING");
  });
});

describe("startup configuration", () => {
  test("JWT_SECRET=short stops the service with a message naming JWT_SECRET", async () => {
    const { code, stderr, stdout } = await runToExit({ JWT_SECRET: "short" });
    expect(code).toBe(2);
    expect(stderr).toContain("JWT_SECRET: must be at least 32 characters");
    expect(stdout).not.toContain("listening");
    expect(stderr).not.toContain("short\n");
  });

  test("production requires REDIS_URL, JWT_SECRET, INTERNAL_SERVICE_TOKEN and USER_SERVICE_URL", async () => {
    const { code, stderr } = await runToExit({ NODE_ENV: "production" });
    expect(code).toBe(2);
    for (const name of ["REDIS_URL", "JWT_SECRET", "INTERNAL_SERVICE_TOKEN", "USER_SERVICE_URL"]) {
      expect(stderr).toContain(`${name}: is required when NODE_ENV=production`);
    }
  });
});
