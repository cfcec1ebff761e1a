// Split mode — gateway, auth and user service as separate processes — with a service stopped
// (SIGSTOP: it accepts but never answers) or killed (SIGKILL: the port is closed). The gateway
// answers 503 problem+json with Retry-After at its deadline or at once, never hangs, and /health
// names the service that is gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { bearer, bodyOf, expectProblem, jsonInit, PASSWORD, uniqueEmail, type Session } from "../stack.ts";
import { call, cleanup, startBinary, type Binary } from "../binaries.ts";
import { health, timed } from "./probes.ts";
import { within } from "../wait.ts";
import { redisServerBinary, startRedisServer, type RedisServer } from "../redis-server.ts";

const SERVICE_TIMEOUT_MS = 1500;

let redis: RedisServer | undefined;
let db: TestDatabase;
let user: Binary;
let auth: Binary;
let gateway: Binary;
let email: string;
let session: Session;

const get = (path: string, headers: Record<string, string> = {}) => call(gateway.url, path, { headers });
const login = () => call(gateway.url, "/auth/login", jsonInit("POST", { email, password: PASSWORD }));

beforeAll(async () => {
  // Without redis-server each binary falls back to its own in-process store, which is enough here.
  [redis, db] = await Promise.all([
    redisServerBinary ? startRedisServer({ ports: [6380, 6389] }) : undefined,
    createTestDatabase("fault_split"),
  ]);
  const REDIS_URL = redis?.url;
  user = await startBinary("user", { DATABASE_URL: db.url, REDIS_URL });
  auth = await startBinary("auth", { REDIS_URL, USER_SERVICE_URL: user.url });
  gateway = await startBinary("gateway", {
    REDIS_URL,
    AUTH_SERVICE_URL: auth.url,
    USER_SERVICE_URL: user.url,
    SERVICE_TIMEOUT_MS: String(SERVICE_TIMEOUT_MS),
    RATE_LIMIT_AUTH_REQUESTS: "1000",
  });
  email = uniqueEmail("split");
  const res = await call(gateway.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Split Fault" }));
  expect(res.status).toBe(201);
  session = await bodyOf<Session>(res);
}, 60_000);

afterAll(async () => {
  await cleanup();
  await redis?.close();
  await db?.drop();
});

describe("split mode with a service stopped or killed", () => {
  test("with all three up, /health is 200 and /users/me answers through the real gRPC hop", async () => {
    expect(await health(gateway.url)).toEqual({
      status: 200,
      body: { status: "healthy", services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } } },
    });
    expect((await get("/users/me", bearer(session))).status).toBe(200);
  });

  test("a stopped auth service (SIGSTOP): /auth/login is a 503 at the deadline, /health names auth; SIGCONT recovers", async () => {
    auth.signal("SIGSTOP");
    try {
      const { value: res, ms } = await timed(login);
      const problem = await expectProblem(res, 503);
      expect(problem.detail).toBe("a backing service did not answer in time; retry shortly");
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(ms).toBeGreaterThanOrEqual(SERVICE_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(SERVICE_TIMEOUT_MS + 2500); // the deadline, not a hang

      const { status, body } = await health(gateway.url);
      expect(status).toBe(503);
      expect(body).toEqual({
        status: "degraded",
        services: { redis: { status: "healthy" }, auth: { status: "unhealthy" }, user: { status: "healthy" } },
      });
      // Routes that don't need the auth service keep working.
      expect((await get("/users/me", bearer(session))).status).toBe(200);
    } finally {
      auth.signal("SIGCONT");
    }
    await within(5000, "login after SIGCONT", async () => {
      const res = await login();
      if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    });
  }, 20_000);

  test("a killed user service (SIGKILL): requests that need it are a 503 within the connect timeout, /health names user", async () => {
    user.signal("SIGKILL");
    await user.exited;
    // /users/me of a user read before is answered from the user cache, in the gateway's one Redis round trip.
    expect((await get("/users/me", bearer(session))).status).toBe(200);
    for (const send of [() => get(`/users/${session.user.id}`, bearer(session)), login]) {
      const { value: res, ms } = await timed(send);
      await expectProblem(res, 503);
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(ms).toBeLessThan(SERVICE_TIMEOUT_MS);
    }
    const { status, body } = await health(gateway.url);
    expect(status).toBe(503);
    expect(body).toEqual({
      status: "degraded",
      services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "unhealthy" } },
    });
  }, 20_000);

  test("a killed auth service (SIGKILL): /auth/* is a 503 at once, and the gateway itself stays up", async () => {
    auth.signal("SIGKILL");
    await auth.exited;
    const { value: res, ms } = await timed(() =>
      call(gateway.url, "/auth/register", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "Late" })),
    );
    await expectProblem(res, 503);
    expect(ms).toBeLessThan(SERVICE_TIMEOUT_MS);
    const { status, body } = await health(gateway.url);
    expect(status).toBe(503);
    expect(Object.entries(body.services).map(([name, check]) => [name, check.status])).toEqual([
      ["redis", "healthy"],
      ["auth", "unhealthy"],
      ["user", "unhealthy"],
    ]);
    expect((await get("/health/live")).status).toBe(200);
    expect(gateway.output()).not.toContain('"level":"error"');
  }, 20_000);
});
