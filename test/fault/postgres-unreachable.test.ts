// PostgreSQL fails under the user service (split mode). The service reaches its throwaway database
// through a TCP proxy this test cuts or freezes, so the machine's PostgreSQL is never stopped; the
// other failures (refused connections, killed sessions) are confined to that database. Requests
// that need the database are a 503 with Retry-After in bounded time, never a 500 or a hang; the
// service turns NOT_SERVING within its probe interval; and everything recovers afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient, type Client } from "@connectrpc/connect";
import postgres from "postgres";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { createRpcTransport } from "../../lib/rpc/client.ts";
import { testDatabaseUrl } from "../backends.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { bearer, bodyOf, expectProblem, jsonInit, PASSWORD, uniqueEmail, type Session } from "../stack.ts";
import { call, cleanup, startBinary, type Binary } from "../binaries.ts";
import { health, timed } from "./probes.ts";
import { within } from "../wait.ts";
import { redisServerBinary, startRedisServer, type RedisServer } from "../redis-server.ts";
import { lockUsersTable } from "./table-lock.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

if (!testDatabaseUrl()) console.log("[fault: postgres unreachable] skipped: needs PostgreSQL (TEST_DATABASE_URL)");

// The user service's database probe runs every 5 s (services/user/service.ts).
const PROBE_INTERVAL_MS = 5000;
const SERVICE_TIMEOUT_MS = 2000;
// A bound that only a hang crosses, not a performance figure.
const NEVER_HANG_MS = 10_000;

describe.skipIf(!testDatabaseUrl())("user service with PostgreSQL unreachable", () => {
  let redis: RedisServer | undefined;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let user: Binary;
  let gateway: Binary;
  let admin: Session;
  let healthClient: Client<typeof Health>;
  let direct: URL;

  const get = (path: string) => call(gateway.url, path, { headers: bearer(admin) });
  /** coldGet asks for an id no cache holds, so the service must ask the database. */
  const coldGet = () => get(`/users/${crypto.randomUUID()}`);
  const expectUnavailable = async (res: Response) => {
    const problem = await expectProblem(res, 503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(problem.detail).not.toMatch(/postgres|5432|password|prisma/i);
  };
  const servingStatus = async () => (await healthClient.check({ service: UserService.typeName }, { timeoutMs: 2000 })).status;

  beforeAll(async () => {
    [redis, db] = await Promise.all([
      redisServerBinary ? startRedisServer({ ports: [6380, 6389] }) : undefined,
      createTestDatabase("fault_pg"),
    ]);
    direct = new URL(db.url ?? "");
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);

    user = await startBinary("user", { DATABASE_URL: viaProxy.toString(), REDIS_URL: redis?.url });
    const auth = await startBinary("auth", { REDIS_URL: redis?.url, USER_SERVICE_URL: user.url });
    gateway = await startBinary("gateway", {
      REDIS_URL: redis?.url,
      AUTH_SERVICE_URL: auth.url,
      USER_SERVICE_URL: user.url,
      SERVICE_TIMEOUT_MS: String(SERVICE_TIMEOUT_MS),
      RATE_LIMIT_AUTH_REQUESTS: "1000",
    });
    healthClient = createClient(Health, createRpcTransport(user.url));

    const email = uniqueEmail("pgadmin");
    const registered = await call(gateway.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Admin" }));
    expect(registered.status).toBe(201);
    const sql = postgres(direct.toString(), { max: 1, onnotice: () => {} });
    await sql`update users set role = 'admin' where email = ${email}`;
    await sql.end();
    const res = await call(gateway.url, "/auth/login", jsonInit("POST", { email, password: PASSWORD }));
    admin = await bodyOf<Session>(res);
    expect(admin.user.role).toBe("admin");
  }, 60_000);

  afterAll(async () => {
    await cleanup();
    await proxy?.close();
    await redis?.close();
    await db?.drop();
  });

  test("while the database answers, the user service is SERVING and GET /users/{id} is 200", async () => {
    expect(await servingStatus()).toBe(ServingStatus.SERVING);
    expect((await get(`/users/${admin.user.id}`)).status).toBe(200);
  });

  test("with the network to the database silent, a request that needs it is a 503 at the gateway's deadline", async () => {
    proxy.freeze();
    try {
      const { value: res, ms } = await timed(coldGet);
      await expectUnavailable(res);
      expect(ms).toBeGreaterThanOrEqual(SERVICE_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(NEVER_HANG_MS);
    } finally {
      proxy.thaw();
    }
    expect((await coldGet()).status).toBe(404);
  }, 20_000);

  test("with the database cut, requests that need it are a 503 with Retry-After, in bounded time", async () => {
    await proxy.cut();
    const requests: [string, () => Promise<Response>][] = [
      // A random id is in no cache: the service must ask the database.
      ["GET /users/{id} (cold cache)", coldGet],
      ["GET /users", () => get("/users")],
      [
        "POST /auth/register",
        () => call(gateway.url, "/auth/register", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "Nobody" })),
      ],
      ["POST /auth/login", () => call(gateway.url, "/auth/login", jsonInit("POST", { email: admin.user.email, password: PASSWORD }))],
      ["PUT /users/{id}", () => call(gateway.url, `/users/${admin.user.id}`, jsonInit("PUT", { name: "Renamed" }, bearer(admin)))],
    ];
    for (const [name, send] of requests) {
      const { value: res, ms } = await timed(send);
      expect({ name, status: res.status, bounded: ms < NEVER_HANG_MS }).toEqual({ name, status: 503, bounded: true });
      await expectUnavailable(res);
    }
  }, 60_000);

  test("the user service turns NOT_SERVING within its probe interval, and the gateway's /health says so", async () => {
    await within(PROBE_INTERVAL_MS + 2000, "NOT_SERVING", async () => {
      const status = await servingStatus();
      if (status !== ServingStatus.NOT_SERVING) throw new Error(ServingStatus[status]);
    });
    expect(await health(gateway.url)).toEqual({
      status: 503,
      body: {
        status: "degraded",
        services: {
          redis: { status: "healthy" },
          auth: { status: "healthy" },
          user: { status: "unhealthy" },
        },
      },
    });
  }, 20_000);

  test("with the database back, the service is SERVING again and the same requests succeed", async () => {
    await proxy.restore();
    await within(PROBE_INTERVAL_MS + 2000, "SERVING", async () => {
      const status = await servingStatus();
      if (status !== ServingStatus.SERVING) throw new Error(ServingStatus[status]);
    });
    expect((await coldGet()).status).toBe(404);
    expect((await call(gateway.url, "/auth/login", jsonInit("POST", { email: admin.user.email, password: PASSWORD }))).status).toBe(200);
    expect(
      (await call(gateway.url, "/auth/register", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "Back" }))).status,
    ).toBe(201);
    expect((await health(gateway.url)).status).toBe(200);
    expect(user.output()).not.toContain('"level":"error"');
  }, 20_000);

  test("a database that refuses connections (ALLOW_CONNECTIONS false, as while it restarts) is a 503, not a 500", async () => {
    const sql = postgres(testDatabaseUrl() ?? "", { max: 1, onnotice: () => {} });
    const name = direct.pathname.slice(1);
    await sql.unsafe(`alter database "${name}" allow_connections false`);
    try {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      for (const send of [
        coldGet,
        () => call(gateway.url, "/auth/login", jsonInit("POST", { email: admin.user.email, password: PASSWORD })),
      ]) {
        const { value: res, ms } = await timed(send);
        await expectUnavailable(res);
        expect(ms).toBeLessThan(NEVER_HANG_MS);
      }
    } finally {
      await sql.unsafe(`alter database "${name}" allow_connections true`);
      await sql.end();
    }
    expect((await coldGet()).status).toBe(404);
  }, 20_000);

  test("a query whose session is killed mid-flight (pg_terminate_backend, as in a restart) is a 503, not a 500", async () => {
    const lock = await lockUsersTable(direct.toString());
    try {
      const pending = timed(coldGet);
      await lock.waitFor(1);
      const sql = postgres(direct.toString(), { max: 1, onnotice: () => {} });
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where pid in ${sql(await lock.waiters())}`;
      await sql.end();
      const { value: res, ms } = await pending;
      await expectUnavailable(res);
      expect(ms).toBeLessThan(NEVER_HANG_MS);
    } finally {
      await lock.release();
    }
    expect((await coldGet()).status).toBe(404);
    expect(user.output()).not.toContain('"level":"error"');
  }, 20_000);
});
