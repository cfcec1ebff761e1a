// The whole stack for end-to-end tests: the user service on a throwaway database, the auth service
// in-process beside it, and the gateway on a real Bun.serve (port 0, loopback), so requests cross a
// real socket and client addresses are real. Services and the main gateway share one store under a
// random key prefix (so the gateway sees the auth service's revocations); extra gateways get their own.
import { expect } from "bun:test";
import { SignJWT } from "jose";
import { AuthService } from "../gen/auth/v1/auth_pb.ts";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { authRoutes } from "../services/auth/auth.rpc.ts";
import type { AuthDeps } from "../services/auth/auth.ts";
import type { LimitOptions } from "../services/auth/limits.ts";
import type { Hasher } from "../services/auth/passwords.ts";
import { createAuthDeps, type MailOptions } from "../services/auth/service.ts";
import { createStore } from "../lib/redis/index.ts";
import { deletePrefix } from "../lib/redis/delete-prefix.ts";
import { randomPrefix } from "./stores.ts";
import { createHealth, type HealthStatus } from "../lib/rpc/health.ts";
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from "../lib/tokens/tokens.ts";
import { serviceClients } from "../gateway/clients.ts";
import type { GatewayDeps } from "../gateway/deps.ts";
import { serveGateway } from "../gateway/server.ts";
import type { UserPage } from "../gateway/routes/users/routes.ts";
import type { TokenResponse } from "../gateway/schemas.ts";
import type { z } from "@hono/zod-openapi";
import { testRedisUrl } from "./backends.ts";
import { authorizeCallers } from "../lib/rpc/callers.ts";
import {
  inProcessTransport,
  silentLog,
  startTestUserService,
  TEST_CREDENTIALS,
  testMailOptions,
  UNLIMITED_AUTH_LIMITS,
  type TestUserService,
} from "./services.ts";

export const JWT_SECRET = "test-stack-jwt-secret-0123456789abcdefghij";
export const PASSWORD = "correct horse battery staple";
// Far below OWASP's 19 MiB: the suites register many users, and the cost is not what they test.
const CHEAP_ARGON2ID = { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 } as const;
const HIGH = 100_000;

export type StackOverrides = Partial<Omit<GatewayDeps, "isShuttingDown">>;

/** Session is what register, login and refresh answer (the gateway's TokenResponse). */
export type Session = z.infer<typeof TokenResponse>;
export type UserPageJson = z.infer<typeof UserPage>;

/** bodyOf reads a JSON response as the shape its route documents. */
export const bodyOf = <T>(res: Response): Promise<T> => res.json() as Promise<T>;

export type TestGateway = {
  url: string;
  deps: Omit<GatewayDeps, "isShuttingDown">;
  /** fetch requests a path of this gateway, failing the test instead of hanging after 10 s. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
};

export type TestStack = TestGateway & {
  svc: TestUserService;
  auth: AuthDeps;
  /** health is the services' gRPC health, which the gateway's /health reports. */
  health: HealthStatus;
  /** hashes counts Argon2id hash and verify calls, to prove some inputs are never hashed. */
  hashes: { hash: number; verify: number };
  /**
   * gateway starts another gateway on the same services, with its own store under a fresh key
   * prefix unless overrides name one: its rate-limit counters start at zero.
   */
  gateway(overrides?: StackOverrides): Promise<TestGateway>;
  /** register creates a user through POST /auth/register and returns its session. */
  register(email?: string): Promise<Session>;
  /** registerAdmin registers a user, makes it an admin through the user service and logs in again. */
  registerAdmin(): Promise<Session>;
  login(email: string, password?: string): Promise<Session>;
};

let emails = 0;
/** uniqueEmail is an address no other test (or run) uses. */
export const uniqueEmail = (tag = "u") => `${tag}${++emails}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** bearer is the Authorization header for a session. */
/** sessionIdOf reads the session id (`sid`) from a session's access token. */
export const sessionIdOf = (session: Pick<Session, "access_token">): string =>
  JSON.parse(Buffer.from(session.access_token.split(".")[1] ?? "", "base64url").toString()).sid;

export const bearer = (session: Pick<Session, "access_token">) => ({ authorization: `Bearer ${session.access_token}` });

/** jsonInit is a JSON request with the given method and body. */
export const jsonInit = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

/** startTestStack starts user service, auth service and gateway; overrides replace gateway deps. */
/** startTestStack runs the gateway on both services in process; authLimits are the auth service's own
 * login and register limits (none by default). */
export async function startTestStack(
  overrides: StackOverrides = {},
  authLimits: LimitOptions = UNLIMITED_AUTH_LIMITS,
  /** mail: with an smtpUrl, the stack's mail worker sends to it; otherwise mail is queued and never sent. */
  mail: Partial<MailOptions> = {},
): Promise<TestStack> {
  const svc = await startTestUserService();
  const hashes = { hash: 0, verify: 0 };
  const hasher: Hasher = {
    hash(password, params) {
      hashes.hash++;
      return Bun.password.hash(password, params);
    },
    verify(password, hash) {
      hashes.verify++;
      return Bun.password.verify(password, hash);
    },
  };
  const auth = await createAuthDeps({
    store: svc.store,
    log: silentLog,
    users: svc.internal,
    jwt: { secret: JWT_SECRET, expirationHours: 1 },
    refreshTokenTtlDays: 30,
    refreshReuseGraceSeconds: 0,
    passwords: { params: CHEAP_ARGON2ID, hasher },
    limits: authLimits,
    mail: testMailOptions(mail),
  });
  if (mail.smtpUrl) auth.mail.startWorker();
  const health = createHealth([AuthService.typeName, UserService.typeName]);
  const authorize = authorizeCallers(TEST_CREDENTIALS);
  const base: Omit<GatewayDeps, "isShuttingDown"> = {
    ...serviceClients({
      auth: inProcessTransport(authRoutes(auth), { health, caller: "gateway", interceptors: [authorize] }),
      user: inProcessTransport(svc.routes, { health, caller: "gateway", interceptors: [authorize] }),
    }),
    store: svc.store,
    log: silentLog,
    verifyAccessToken: auth.tokens.verify,
    limits: { auth: { name: "auth", max: HIGH, windowSeconds: 60 }, users: { name: "users", max: HIGH, windowSeconds: 60 } },
    trustedProxies: [],
    corsOrigins: [],
    version: "0.0.0-test",
  };
  const extra: TestGateway[] = [];
  const main = startGateway({ ...base, ...overrides });

  const session = async (res: Response, expected: number): Promise<Session> => {
    if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${await res.text()}`);
    return bodyOf<Session>(res);
  };
  const login = async (email: string, password = PASSWORD) =>
    session(await main.fetch("/auth/login", jsonInit("POST", { email, password })), 200);
  const register = async (email = uniqueEmail()) =>
    session(await main.fetch("/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Test User" })), 201);

  return {
    ...main,
    svc,
    auth,
    health,
    hashes,
    register,
    login,
    async gateway(more = {}) {
      const prefix = randomPrefix();
      const store = more.store ?? createStore({ url: testRedisUrl(), prefix });
      const gateway = startGateway({ ...base, store, ...more });
      const closing = {
        ...gateway,
        async close() {
          await gateway.close();
          if (more.store) return;
          await deletePrefix(store, prefix);
          await store.close();
        },
      };
      extra.push(closing);
      return closing;
    },
    async registerAdmin() {
      const { user } = await register(uniqueEmail("admin"));
      await svc.users.updateUser({ id: user.id, role: "admin" });
      return login(user.email);
    },
    async close() {
      await Promise.all(extra.map((gateway) => gateway.close()));
      await main.close();
      await auth.mail.close();
      await svc.close();
    },
  };
}

function startGateway(deps: Omit<GatewayDeps, "isShuttingDown">): TestGateway {
  const gateway = serveGateway(deps, { host: "127.0.0.1", port: 0, shutdownTimeoutSeconds: 2 });
  return {
    url: gateway.url,
    deps,
    fetch: (path, init = {}) => fetch(`${gateway.url}${path}`, { signal: AbortSignal.timeout(10_000), ...init }),
    close: gateway.close,
  };
}

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
};

/** expectProblem asserts an RFC 9457 problem response with this status and returns its body. */
export async function expectProblem(res: Response, status: number): Promise<ProblemBody> {
  const text = await res.text();
  expect({ status: res.status, type: res.headers.get("content-type") }).toEqual({ status, type: "application/problem+json" });
  const body = JSON.parse(text) as ProblemBody;
  // A copy: bun's toMatchObject writes its asymmetric matchers into the object it checks.
  expect({ ...body }).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance: expect.any(String),
  });
  return body;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** forgeToken signs access-token claims for user as the tests need them: expired, with another
 * secret, or (alg "none") unsigned. Defaults are what the auth service issues. */
export async function forgeToken(
  user: Session["user"],
  {
    secret = JWT_SECRET,
    alg = "HS256",
    ageSeconds = 0,
    claims = {},
  }: { secret?: string; alg?: "HS256" | "none"; ageSeconds?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) - ageSeconds;
  const payload = {
    email: user.email,
    role: user.role,
    typ: "access",
    sub: user.id,
    sid: crypto.randomUUID(),
    iss: DEFAULT_ISSUER,
    aud: DEFAULT_AUDIENCE,
    jti: Bun.randomUUIDv7("hex", iat * 1000),
    iat,
    exp: iat + 3600,
    ...claims,
  };
  if (alg === "none") return `${b64url({ alg: "none", typ: "at+jwt" })}.${b64url(payload)}.`;
  return new SignJWT(payload).setProtectedHeader({ alg, typ: "at+jwt" }).sign(new TextEncoder().encode(secret));
}

/** unreachableStore is a Redis store whose port nothing listens on: every command fails. */
export function unreachableStore() {
  const socket = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = socket;
  socket.stop(true);
  return createStore({ url: `redis://127.0.0.1:${port}`, onError: () => {} });
}
