// Split mode as production runs it (docker-compose.yml without Docker): a one-shot `migrate up`, then
// user-service, auth-service and gateway as separate binaries on PostgreSQL and Redis, each given
// only the reference's variables it uses, with NODE_ENV=production so no embedded fallback can
// hide a missing one. The user service is then called from outside with independent clients:
// @grpc/grpc-js reading proto/ itself, `buf curl` through reflection, and Connect JSON over fetch.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import type { Session, UserPageJson } from "../stack.ts";
import { grpcJsClient, grpcJsMethod, grpcJsUnary } from "../grpc-js.ts";
import {
  MAIL_ENV,
  baseEnv,
  cleanup,
  dataDir,
  freePorts,
  http,
  CREDENTIALS,
  JWT_SECRET,
  PASSWORD,
  ROOT,
  run,
  start,
  redisKeys,
  uniqueEmail,
  where,
  type Exited,
  type ClientCall,
  fromClient,
} from "../binaries.ts";

// Every test here waits on real processes (1–3 s to start, more on a busy machine).
setDefaultTimeout(30_000);

const missing = [!testDatabaseUrl() && "TEST_DATABASE_URL", !testRedisUrl() && "TEST_REDIS_URL"].filter(Boolean);
if (missing.length > 0)
  console.error(`[split e2e] skipped: ${missing.join(" and ")} empty (split mode needs a PostgreSQL and a Redis server)`);

const method = (name: string) => grpcJsMethod("user/v1/user.proto", "user.v1.UserService", name);
const rpc = {
  createUser: method("CreateUser"),
  getUser: method("GetUser"),
  getUserByEmail: method("GetUserByEmail"),
  listUsers: method("ListUsers"),
  updateUser: method("UpdateUser"),
  deleteUser: method("DeleteUser"),
  restoreUser: method("RestoreUser"),
  hardDeleteUser: method("HardDeleteUser"),
  getUserByEmailInternal: method("GetUserByEmailInternal"),
  getUserByEmailInternalWithDeleted: method("GetUserByEmailInternalWithDeleted"),
};
const healthCheck = grpcJsMethod("grpc/health/v1/health.proto", "grpc.health.v1.Health", "Check");

// proto-loader's view of the messages: camelCase fields, enums as names.
type GrpcUser = {
  id: string;
  email: string;
  name: string;
  role: string;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
  passwordHash?: string;
};
type GrpcPage = { users: GrpcUser[]; nextPageToken: string };

let testDb: TestDatabase | undefined;
let client: grpc.Client | undefined;
afterAll(async () => {
  client?.close();
  await cleanup();
  await testDb?.drop();
});

describe.skipIf(missing.length > 0)("split mode: user-service, auth-service and gateway binaries", () => {
  const urls = { user: "", auth: "", gateway: "" };
  let backends: { NODE_ENV: string; DATABASE_URL: string; REDIS_URL: string };
  let api: ReturnType<typeof http>;
  let banners: { user: string; auth: string; gateway: string };
  let migrated: Exited;

  beforeAll(async () => {
    testDb = await createTestDatabase("e2e_split");
    backends = { NODE_ENV: "production", DATABASE_URL: testDb.url!, REDIS_URL: testRedisUrl()! };
    const [gatewayPort, authPort, userPort] = freePorts(3) as [number, number, number];
    urls.user = `http://127.0.0.1:${userPort}`;
    urls.auth = `http://127.0.0.1:${authPort}`;
    urls.gateway = `http://127.0.0.1:${gatewayPort}`;
    const { NODE_ENV, DATABASE_URL, REDIS_URL } = backends;
    const { GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN } = CREDENTIALS;

    // As in docker-compose.yml: the one-shot migration first, then each service after the one it calls.
    migrated = await run(["services/user/main.ts", "migrate", "up"], { ...baseEnv(dataDir("split-migrate")), NODE_ENV, DATABASE_URL });
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    const ready = /listening on http:\/\/\S+/;
    const user = await start(
      ["services/user/main.ts", "serve", "--port", `${userPort}`],
      { ...baseEnv(dataDir("split-user")), NODE_ENV, DATABASE_URL, REDIS_URL, GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN },
      ready,
    );
    const auth = await start(
      ["services/auth/main.ts", "serve", "--port", `${authPort}`],
      {
        ...baseEnv(dataDir("split-auth")),
        NODE_ENV,
        REDIS_URL,
        JWT_SECRET,
        GATEWAY_TOKEN,
        AUTH_SERVICE_TOKEN,
        OPERATOR_TOKEN,
        USER_SERVICE_URL: urls.user,
        ...MAIL_ENV,
      },
      ready,
    );
    // The gateway has only its own credential: the user service won't give it password hashes.
    const gateway = await start(
      ["gateway/main.ts", "serve", "--port", `${gatewayPort}`],
      {
        ...baseEnv(dataDir("split-gateway")),
        NODE_ENV,
        REDIS_URL,
        JWT_SECRET,
        GATEWAY_TOKEN,
        AUTH_SERVICE_URL: urls.auth,
        USER_SERVICE_URL: urls.user,
        // The tests play clients behind a proxy on this machine (X-Forwarded-For).
        TRUSTED_PROXIES: "127.0.0.1/32",
      },
      /docs: \S+/,
    );
    banners = { user: user.stdout(), auth: auth.stdout(), gateway: gateway.stdout() };
    api = http(urls.gateway);
    client = grpcJsClient(urls.user);
  }, 60_000);

  describe("startup", () => {
    test("migrate up applies every migration; migrate status then shows none pending", async () => {
      expect(migrated.stdout).toMatch(/^ {2}applied {2}\S+_create_users$/m);
      const status = await run(["services/user/main.ts", "migrate", "status"], { ...baseEnv(dataDir("split-status")), ...backends });
      expect(status).toMatchObject({ code: 0, stderr: "" });
      expect(status.stdout).toContain(`Database: PostgreSQL ${where(backends.DATABASE_URL, "5432")}\n`);
      expect(status.stdout).toMatch(/^\d+ applied, 0 pending\.$/m);
      expect(status.stdout).not.toContain("warning");
    });

    test("each banner names its address, its peers and its backends", () => {
      expect(banners.user).toContain(`user-service listening on ${urls.user}`);
      expect(banners.user).toContain(`database: PostgreSQL ${where(backends.DATABASE_URL, "5432")}\n`);
      expect(banners.user).toContain(`redis: redis ${where(backends.REDIS_URL, "6379")}\n`);
      expect(banners.auth).toContain(`redis: redis ${where(backends.REDIS_URL, "6379")}\n`);
      expect(banners.auth).toContain(`auth-service listening on ${urls.auth}`);
      expect(banners.auth).toContain(`user service: ${urls.user}`);
      expect(banners.gateway).toContain(`gateway listening on ${urls.gateway}`);
      expect(banners.gateway).toContain(`docs: ${urls.gateway}/swagger-ui`);
    });
  });

  describe("the REST API through the gateway", () => {
    test("GET /health is 200 with redis, auth and user healthy", async () => {
      const res = await api("/health");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: "healthy",
        services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } },
      });
    });

    test("register → login → /users/me; after users promote, the user lists users", async () => {
      const email = uniqueEmail("split");
      const registered = await api("/auth/register", { body: { email, password: PASSWORD, name: "Split E2E" } });
      expect(registered.status).toBe(201);
      const { user } = (await registered.json()) as Session;
      const login = await api("/auth/login", { body: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const { access_token } = (await login.json()) as Session;
      const me = await api("/users/me", { token: access_token });
      expect({ status: me.status, body: await me.json() }).toEqual({ status: 200, body: user });
      expect((await api("/users", { token: access_token })).status).toBe(403);

      // The documented bootstrap, on the same database and Redis while the services run.
      const promoted = await run(["combined/main.ts", "users", "promote", email], { ...baseEnv(dataDir("split-promote")), ...backends });
      expect(promoted).toMatchObject({ code: 0, stdout: expect.stringContaining(`${email} is now an admin`) });
      const admin = (await (await api("/auth/login", { body: { email, password: PASSWORD } })).json()) as Session;
      expect(admin.user.role).toBe("admin");
      const list = await api("/users?page_size=100", { token: admin.access_token });
      expect(list.status).toBe(200);
      expect(((await list.json()) as UserPageJson).users.map((u) => [u.email, u.role])).toContainEqual([email, "admin"]);
      const meAgain = (await (await api("/users/me", { token: admin.access_token })).json()) as Session["user"];
      expect(meAgain.role).toBe("admin");
    });
  });

  describe("REDIS_KEY_PREFIX", () => {
    test("every binary keeps its keys under it: rate limits, refresh tokens, the user cache and revocations", async () => {
      const registered = await api("/auth/register", { body: { email: uniqueEmail("prefix"), password: PASSWORD, name: "Prefixed" } });
      const { user, access_token } = (await registered.json()) as Session;
      expect((await api("/users/me", { token: access_token })).status).toBe(200);
      // Deleted by the user service, refused by the gateway: both read revocations under the prefix.
      const operator = new grpc.Metadata();
      operator.set("authorization", `Bearer ${CREDENTIALS.OPERATOR_TOKEN}`);
      await grpcJsUnary(client!, rpc.deleteUser, { id: user.id }, { metadata: operator, deadlineMs: 10_000 });
      expect((await api("/users/me", { token: access_token })).status).toBe(401);
      const keys = await redisKeys();
      expect(keys).toEqual(
        expect.arrayContaining(["rate_limit:auth:127.0.0.1", "rate_limit:users:127.0.0.1", `revoked:access:{user:${user.id}}`]),
      );
      expect(keys.some((key) => key.startsWith("refresh:token:"))).toBe(true);
    });
  });

  describe("the user-service binary from independent clients", () => {
    /** as presents a caller's credential; an operator may call every method. */
    const as = (secret: string | undefined) => {
      const metadata = new grpc.Metadata();
      if (secret !== undefined) metadata.set("authorization", `Bearer ${secret}`);
      return metadata;
    };
    const operator = () => as(CREDENTIALS.OPERATOR_TOKEN);
    const call = <T>(m: ReturnType<typeof method>, request: object, metadata = operator()) =>
      grpcJsUnary(client!, m, request, { metadata, deadlineMs: 10_000 }).then(({ response }) => response as T);
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => "OK",
        (error: grpc.ServiceError) => grpc.status[error.code],
      );
    const credential = () => as(CREDENTIALS.AUTH_SERVICE_TOKEN);

    test("grpc-js: Create → Get → GetByEmail → List → Update → Delete → Restore → HardDelete", async () => {
      const email = uniqueEmail("grpc");
      const passwordHash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 });
      const created = await call<GrpcUser>(rpc.createUser, { email: `  ${email.toUpperCase()} `, passwordHash, name: "Grace Hopper" });
      expect(created).toMatchObject({ email, name: "Grace Hopper", role: "user" });
      expect(JSON.stringify(created)).not.toContain("argon2");
      const { id } = created;

      expect(await call<GrpcUser>(rpc.getUser, { id })).toEqual(created);
      expect(await call<GrpcUser>(rpc.getUserByEmail, { email: email.toUpperCase() })).toEqual(created);
      const active = await call<GrpcPage>(rpc.listUsers, { pageSize: 100 });
      expect(active.users.map((u) => u.id)).toContain(id);

      const updated = await call<GrpcUser>(rpc.updateUser, { id, name: "Rear Admiral Hopper" });
      expect(updated).toMatchObject({ id, email, name: "Rear Admiral Hopper" });

      expect(await call(rpc.deleteUser, { id })).toEqual({ success: true });
      expect(await code(call(rpc.getUser, { id }))).toBe("NOT_FOUND");
      const deleted = await call<GrpcPage>(rpc.listUsers, { pageSize: 100, state: "USER_STATE_DELETED" });
      expect(deleted.users.find((u) => u.id === id)).toMatchObject({ id, deletedAt: expect.any(String) });

      const internal = await call<GrpcUser>(rpc.getUserByEmailInternalWithDeleted, { email }, credential());
      expect(internal).toMatchObject({ id, passwordHash, deletedAt: expect.any(String) });
      expect(await code(call(rpc.getUserByEmailInternalWithDeleted, { email }, as(undefined)))).toBe("UNAUTHENTICATED");
      expect(await code(call(rpc.getUserByEmailInternal, { email }, as(CREDENTIALS.GATEWAY_TOKEN)))).toBe("PERMISSION_DENIED");

      const restored = await call<GrpcUser>(rpc.restoreUser, { id });
      expect(restored).toMatchObject({ id, email, name: "Rear Admiral Hopper" });
      expect(restored.deletedAt).toBeFalsy();
      expect((await call<GrpcUser>(rpc.getUser, { id })).id).toBe(id);

      expect(await call(rpc.hardDeleteUser, { id })).toEqual({ success: true });
      expect(await code(call(rpc.getUser, { id }))).toBe("NOT_FOUND");
      expect(await code(call(rpc.getUser, { id, includeDeleted: true }))).toBe("NOT_FOUND");
      expect(await code(call(rpc.getUserByEmail, { email }))).toBe("NOT_FOUND");
      expect(await code(call(rpc.getUserByEmailInternalWithDeleted, { email }, credential()))).toBe("NOT_FOUND");
      const all = await call<GrpcPage>(rpc.listUsers, { pageSize: 100, state: "USER_STATE_ALL" });
      expect(all.users.map((u) => u.id)).not.toContain(id);
    });

    test("every method without a credential, or with a wrong one, is UNAUTHENTICATED and changes nothing", async () => {
      const victim = await call<GrpcUser>(rpc.createUser, {
        email: uniqueEmail("victim"),
        passwordHash: "$argon2id$victim",
        name: "Victim",
      });
      const requests: Record<keyof typeof rpc, object> = {
        createUser: { email: uniqueEmail("intruder"), passwordHash: "$argon2id$x", name: "Intruder", role: "admin" },
        getUser: { id: victim.id },
        getUserByEmail: { email: victim.email },
        listUsers: { pageSize: 10 },
        updateUser: { id: victim.id, role: "admin", passwordHash: "$argon2id$taken-over" },
        deleteUser: { id: victim.id },
        restoreUser: { id: victim.id },
        hardDeleteUser: { id: victim.id },
        getUserByEmailInternal: { email: victim.email },
        getUserByEmailInternalWithDeleted: { email: victim.email },
      };
      const unknownId = { id: crypto.randomUUID() };
      for (const presented of [undefined, "", "not-a-credential", `${CREDENTIALS.OPERATOR_TOKEN}x`, JWT_SECRET]) {
        for (const [name, request] of Object.entries(requests)) {
          expect(`${name}: ${await code(call(rpc[name as keyof typeof rpc], request, as(presented)))}`).toBe(`${name}: UNAUTHENTICATED`);
        }
        // The same answer whether or not the user exists.
        expect(await code(call(rpc.getUser, unknownId, as(presented)))).toBe("UNAUTHENTICATED");
      }
      const after = await call<GrpcUser>(rpc.getUserByEmailInternal, { email: victim.email }, credential());
      expect(after).toMatchObject({ id: victim.id, role: "user", passwordHash: "$argon2id$victim" });
      expect(after.deletedAt).toBeFalsy();
    });

    test("each caller may use only its methods (PERMISSION_DENIED, whether or not the user exists); the operator all", async () => {
      const allowed = {
        gateway: ["getUser", "listUsers", "deleteUser", "restoreUser"],
        auth: ["getUser", "createUser", "updateUser", "getUserByEmailInternal", "getUserByEmailInternalWithDeleted"],
      };
      const secrets = { gateway: CREDENTIALS.GATEWAY_TOKEN, auth: CREDENTIALS.AUTH_SERVICE_TOKEN };
      const unknown = { id: crypto.randomUUID(), email: uniqueEmail("nobody"), pageSize: 1 };
      for (const [caller, methods] of Object.entries(allowed) as [keyof typeof allowed, string[]][]) {
        for (const name of Object.keys(rpc) as (keyof typeof rpc)[]) {
          if (methods.includes(name)) continue;
          const answer = await code(call(rpc[name], unknown, as(secrets[caller])));
          expect(`${caller} ${name}: ${answer}`).toBe(`${caller} ${name}: PERMISSION_DENIED`);
        }
      }
      // Allowed methods get past the check: a missing user is NOT_FOUND, not a refusal.
      expect(await code(call(rpc.getUser, unknown, as(secrets.gateway)))).toBe("NOT_FOUND");
      expect(await code(call(rpc.getUserByEmailInternal, unknown, as(secrets.auth)))).toBe("NOT_FOUND");
      expect(await code(call(rpc.hardDeleteUser, unknown))).toBe("NOT_FOUND");
    });

    test("grpc.health.v1 Check says SERVING, overall and for user.v1.UserService", async () => {
      for (const service of ["", "user.v1.UserService"]) {
        expect((await grpcJsUnary(client!, healthCheck, { service }, { deadlineMs: 10_000 })).response).toEqual({ status: "SERVING" });
      }
    });

    /** bufCurl runs the repository's pinned buf from the repository root. */
    async function bufCurl(...args: string[]) {
      const proc = Bun.spawn(["bunx", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? ROOT },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, exit] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { code: exit, stdout, stderr };
    }

    test("buf curl --reflect lists the user, health and reflection services", async () => {
      const listed = await bufCurl("--list-services", urls.user);
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: "" });
      expect(listed.stdout.trim().split("\n").sort()).toEqual([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "user.v1.UserService",
      ]);
    });

    test("buf curl calls GetUser through reflection", async () => {
      const created = await call<GrpcUser>(rpc.createUser, {
        email: uniqueEmail("buf"),
        passwordHash: "$argon2id$placeholder",
        name: "Buf Curl",
      });
      const url = `${urls.user}/user.v1.UserService/GetUser`;
      const refused = await bufCurl("-d", JSON.stringify({ id: created.id }), url);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("unauthenticated");
      const res = await bufCurl("-H", `authorization: Bearer ${CREDENTIALS.OPERATOR_TOKEN}`, "-d", JSON.stringify({ id: created.id }), url);
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(res.stdout)).toMatchObject({ id: created.id, email: created.email, name: "Buf Curl", role: "user" });
      expect(res.stdout).not.toContain("argon2");
    });

    test("a Connect JSON POST over HTTP/1.1 (fetch) on the same port works", async () => {
      const created = await call<GrpcUser>(rpc.createUser, {
        email: uniqueEmail("connect"),
        passwordHash: "$argon2id$placeholder",
        name: "Connect JSON",
      });
      const anonymous = await fetch(`${urls.user}/user.v1.UserService/GetUserByEmail`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: created.email }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });
      const res = await fetch(`${urls.user}/user.v1.UserService/GetUserByEmail`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${CREDENTIALS.OPERATOR_TOKEN}` },
        body: JSON.stringify({ email: created.email.toUpperCase() }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ id: created.id, email: created.email, name: "Connect JSON" });
      expect(body).not.toHaveProperty("passwordHash");

      const health = await fetch(`${urls.user}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ service: "" }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(await health.json()).toEqual({ status: "SERVING" });
    });
  });
  // Issue #13 across the real binaries: each test plays clients at addresses of its own (behind the
  // trusted proxy), so the per-address limits of one don't touch another.
  describe("account and session security", () => {
    const as = (address: string) => (path: string, init?: ClientCall) => fromClient(urls.gateway, address, path, init);
    const json = async <T>(res: Response, status: number): Promise<T> => {
      expect(res.status).toBe(status);
      return (await res.json()) as T;
    };
    const admin = async (call: ReturnType<typeof as>) => {
      const email = uniqueEmail("split-admin");
      await json(await call("/auth/register", { body: { email, password: PASSWORD, name: "Admin" } }), 201);
      const promoted = await run(["combined/main.ts", "users", "promote", email], { ...baseEnv(dataDir("split-promote")), ...backends });
      expect(promoted.code).toBe(0);
      return json<Session>(await call("/auth/login", { body: { email, password: PASSWORD } }), 200);
    };

    test("a demoted admin's token is refused at once; its session goes on as a user", async () => {
      const call = as("198.51.100.10");
      const [a, b] = [await admin(call), await admin(call)];
      expect((await call("/users", { token: b.access_token })).status).toBe(200);
      await json(await call(`/users/${b.user.id}`, { method: "PUT", body: { role: "user" }, token: a.access_token }), 200);
      expect((await call("/users", { token: b.access_token })).status).toBe(401);
      expect((await call(`/users/${b.user.id}`, { method: "PUT", body: { role: "admin" }, token: b.access_token })).status).toBe(401);
      const renewed = await json<Session>(await call("/auth/refresh", { body: { refresh_token: b.refresh_token } }), 200);
      expect(renewed.user.role).toBe("user");
      expect((await call("/users", { token: renewed.access_token })).status).toBe(403);
    });

    test("a password change needs current_password, ends the other sessions and hands the changing one a fresh pair", async () => {
      const call = as("198.51.100.11");
      const email = uniqueEmail("split-password");
      const first = await json<Session>(await call("/auth/register", { body: { email, password: PASSWORD, name: "P" } }), 201);
      const other = await json<Session>(await call("/auth/login", { body: { email, password: PASSWORD } }), 200);
      const change = { password: "a brand new passphrase" };
      expect((await call(`/users/${first.user.id}`, { method: "PUT", body: change, token: first.access_token })).status).toBe(422);
      const changed = await json<{ tokens: Omit<Session, "user"> }>(
        await call(`/users/${first.user.id}`, {
          method: "PUT",
          body: { ...change, current_password: PASSWORD },
          token: first.access_token,
        }),
        200,
      );
      expect((await call("/users/me", { token: other.access_token })).status).toBe(401);
      expect((await call("/auth/refresh", { body: { refresh_token: other.refresh_token } })).status).toBe(401);
      expect((await call("/users/me", { token: changed.tokens.access_token })).status).toBe(200);
    });

    test("sessions: listed, one ended at once, then logout-all ends the rest", async () => {
      const call = as("198.51.100.12");
      const email = uniqueEmail("split-sessions");
      const a = await json<Session>(await call("/auth/register", { body: { email, password: PASSWORD, name: "S" } }), 201);
      const b = await json<Session>(await call("/auth/login", { body: { email, password: PASSWORD } }), 200);
      const c = await json<Session>(await call("/auth/login", { body: { email, password: PASSWORD } }), 200);
      const { sessions } = await json<{ sessions: { id: string; ip: string; current: boolean }[] }>(
        await call("/auth/sessions", { token: a.access_token }),
        200,
      );
      expect(sessions).toHaveLength(3);
      expect(sessions.every((s) => s.ip === "198.51.100.12")).toBe(true);
      const bSid = JSON.parse(Buffer.from(b.access_token.split(".")[1]!, "base64url").toString()).sid as string;
      expect((await call(`/auth/sessions/${bSid}`, { method: "DELETE", token: a.access_token })).status).toBe(204);
      expect((await call("/users/me", { token: b.access_token })).status).toBe(401);
      expect((await call("/users/me", { token: c.access_token })).status).toBe(200);
      expect((await call("/auth/logout-all", { method: "POST", token: c.access_token })).status).toBe(204);
      for (const session of [a, c]) {
        expect((await call("/users/me", { token: session.access_token })).status).toBe(401);
        expect((await call("/auth/refresh", { body: { refresh_token: session.refresh_token } })).status).toBe(401);
      }
    });

    test("11 logins from one IPv6 /64 → 429; 6 wrong passwords for one email from 6 addresses → 429", async () => {
      const statuses = [];
      for (let i = 1; i <= 11; i++) {
        const res = await as(`2001:db8:5:1::${i}`)("/auth/login", { body: { email: uniqueEmail("nobody"), password: PASSWORD } });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses[10]).toBe(429);

      const email = uniqueEmail("split-stuffed");
      await json(await as("198.51.100.13")("/auth/register", { body: { email, password: PASSWORD, name: "V" } }), 201);
      const wrong = [];
      for (let i = 1; i <= 6; i++)
        wrong.push((await as(`203.0.113.${40 + i}`)("/auth/login", { body: { email, password: "guess" } })).status);
      expect(wrong).toEqual([401, 401, 401, 401, 401, 429]);
    });
  });
  // Issue #15: each binary's metrics, and a real Prometheus scraping them with the repo's config.
  describe("metrics", () => {
    const internal = (banner: string) => /internal Connect: (http:\/\/\S+)/.exec(banner)?.[1] ?? "";
    const scrape = async (base: string) => {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      return res.text();
    };
    const value = (text: string, series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };

    test("each binary's metrics pass promtool check metrics, and counters move by exactly the requests made", async () => {
      const targets = { gateway: urls.gateway, auth: internal(banners.auth), user: internal(banners.user) };
      const email = uniqueEmail("split-metrics");
      const registered = await api("/auth/register", { body: { email, password: PASSWORD, name: "Metrics" } });
      const session = (await registered.json()) as Session;
      const route = 'http_requests_total{method="GET",route="/users/:id",status="200"}';
      const client = 'rpc_client_requests_total{service="user.v1.UserService",method="GetUser",code="ok"}';
      const server = 'rpc_server_requests_total{service="user.v1.UserService",method="GetUser",code="ok"}';
      const before = { gateway: await scrape(targets.gateway), user: await scrape(targets.user) };
      for (let i = 0; i < 4; i++) expect((await api(`/users/${session.user.id}`, { token: session.access_token })).status).toBe(200);
      const after = { gateway: await scrape(targets.gateway), user: await scrape(targets.user) };
      expect(value(after.gateway, route) - value(before.gateway, route)).toBe(4);
      expect(value(after.gateway, client) - value(before.gateway, client)).toBe(4);
      expect(value(after.user, server) - value(before.user, server)).toBeGreaterThanOrEqual(4);
      if (!Bun.which("promtool")) return console.log("[split e2e] promtool absent: promtool check metrics skipped");
      for (const [name, base] of Object.entries(targets)) {
        const check = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(await scrape(base)) });
        expect(`${name}: ${check.exitCode} ${check.stdout}${check.stderr}`).toBe(`${name}: 0 `);
      }
    });

    test("a real Prometheus started with deploy/prometheus/prometheus.yml sees every target up", async () => {
      if (!Bun.which("prometheus")) return console.log("[split e2e] prometheus absent: scrape test skipped");
      const dir = dataDir("split-prometheus");
      const hostOf = (url: string) => new URL(url).host;
      // The repo's config with the compose names pointed at this machine's ports, scraping every second.
      const config = readFileSync(join(ROOT, "deploy/prometheus/prometheus.yml"), "utf8")
        .replace("gateway:3000", hostOf(urls.gateway))
        .replace("auth-service:50061", hostOf(internal(banners.auth)))
        .replace("user-service:50062", hostOf(internal(banners.user)))
        .replaceAll(/scrape_interval: \S+/g, "scrape_interval: 1s")
        .replaceAll(/scrape_timeout: \S+/g, "scrape_timeout: 1s");
      writeFileSync(join(dir, "prometheus.yml"), config);
      copyFileSync(join(ROOT, "deploy/prometheus/alerts.yml"), join(dir, "alerts.yml"));
      const [port] = freePorts(1) as [number];
      const prometheus = Bun.spawn(
        [
          "prometheus",
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      try {
        let health: Record<string, string> = {};
        for (let attempt = 0; attempt < 100; attempt++) {
          await Bun.sleep(200);
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets`).catch(() => null);
          if (!res?.ok) continue;
          const body = (await res.json()) as { data: { activeTargets: { labels: { job: string }; health: string }[] } };
          health = Object.fromEntries(body.data.activeTargets.map((t) => [t.labels.job, t.health]));
          if (Object.values(health).length === 3 && Object.values(health).every((h) => h === "up")) break;
        }
        if (Object.keys(health).length === 0) prometheus.kill();
        const log = Object.keys(health).length === 0 ? await new Response(prometheus.stderr).text() : "";
        expect({ health, log: log.split("\n").filter((line) => line.includes("level=error")) }).toEqual({
          health: { gateway: "up", "auth-service": "up", "user-service": "up" },
          log: [],
        });
      } finally {
        prometheus.kill();
        await prometheus.exited;
      }
    });
  });
});
