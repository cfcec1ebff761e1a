// End to end: the real auth-service and user-service binaries, each on a free port with its
// embedded defaults (PGlite, in-process store) in its own DATA_DIR, called with @grpc/grpc-js,
// which reads proto/ itself — an independent gRPC implementation, not connect talking to connect.
// (proto-loader's default: fields in camelCase, int64 as Long.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { baseEnv, CREDENTIALS, cleanup, dataDir, run, startBinary } from "../../test/binaries.ts";
import { grpcJsClient, grpcJsMethod, grpcJsUnary } from "../../test/grpc-js.ts";

const method = (name: string) => grpcJsMethod("auth/v1/auth.proto", "auth.v1.AuthService", name);
const register = method("Register");
const login = method("Login");
const verifyToken = method("VerifyToken");
const refreshToken = method("RefreshToken");
const logout = method("Logout");
const healthCheck = grpcJsMethod("grpc/health/v1/health.proto", "grpc.health.v1.Health", "Check");

/** runToExit runs the auth binary (no secrets given) expecting it to stop at startup. */
const runToExit = (env: Record<string, string>) =>
  run(["services/auth/main.ts", "serve", "--port", "0"], { ...baseEnv(dataDir("auth")), ...env });

let client: grpc.Client;
beforeAll(async () => {
  const users = await startBinary("user");
  const authService = await startBinary("auth", { USER_SERVICE_URL: users.url });
  client = grpcJsClient(authService.url);
}, 60_000);

afterAll(async () => {
  client?.close();
  await cleanup();
});

const call = (m: ReturnType<typeof method>, request: object) =>
  grpcJsUnary(client, m, request, { deadlineMs: 10_000 }).then((r) => r.response);
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

describe("HashPassword: only for operators", () => {
  const hashPassword = method("HashPassword");
  const as = (secret?: string) => {
    const metadata = new grpc.Metadata();
    if (secret) metadata.set("authorization", `Bearer ${secret}`);
    return metadata;
  };
  const hash = (secret?: string) =>
    grpcJsUnary(client, hashPassword, { password: "a new password 1" }, { metadata: as(secret), deadlineMs: 10_000 }).then(
      (r) => String((r.response as { passwordHash: string }).passwordHash),
      (error: grpc.ServiceError) => grpc.status[error.code],
    );

  test("without a credential or with a wrong one: UNAUTHENTICATED", async () => {
    expect(await hash()).toBe("UNAUTHENTICATED");
    expect(await hash("not-a-credential-0123456789abcdef0123")).toBe("UNAUTHENTICATED");
  });

  test("the auth service's own secret means nothing here (UNAUTHENTICATED); the gateway's is refused; an operator's: an Argon2id hash", async () => {
    expect(await hash(CREDENTIALS.AUTH_SERVICE_TOKEN)).toBe("UNAUTHENTICATED");
    expect(await hash(CREDENTIALS.GATEWAY_TOKEN)).toBe("PERMISSION_DENIED");
    expect(await hash(CREDENTIALS.OPERATOR_TOKEN)).toStartWith("$argon2id$");
  });
});

// Last: it spends this address's login budget (10 a minute by default) for the rest of the file.
describe("Login limits over gRPC, straight to the service port", () => {
  test("a Login flood from one address gets RESOURCE_EXHAUSTED with retry-after, whatever x-client-ip it claims", async () => {
    const spoofed = new grpc.Metadata();
    spoofed.set("x-client-ip", "198.51.100.99"); // believed only with the gateway's credential
    const attempt = (i: number) =>
      grpcJsUnary(
        client,
        login,
        { email: `flood-${i}@example.com`, password: "wrong password" },
        { metadata: spoofed, deadlineMs: 10_000 },
      ).then(
        () => ({ code: grpc.status.OK, retryAfter: undefined }),
        (error: grpc.ServiceError) => ({ code: error.code, retryAfter: error.metadata.get("retry-after")[0] }),
      );
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await attempt(i));
    const exhausted = results.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED);
    expect(exhausted.length).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => r.code === grpc.status.UNAUTHENTICATED || r.code === grpc.status.RESOURCE_EXHAUSTED)).toBe(true);
    expect(Number(exhausted[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(results.at(-1)!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
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

  test("production requires REDIS_URL, JWT_SECRET, its own and its callers' secrets, and USER_SERVICE_URL", async () => {
    const { code, stderr } = await runToExit({ NODE_ENV: "production" });
    expect(code).toBe(2);
    for (const name of ["REDIS_URL", "JWT_SECRET", "AUTH_SERVICE_TOKEN", "GATEWAY_TOKEN", "OPERATOR_TOKEN", "USER_SERVICE_URL"]) {
      expect(stderr).toContain(`${name}: is required when NODE_ENV=production`);
    }
  });
});
