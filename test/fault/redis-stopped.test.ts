// Redis goes away under `combined serve`: /health turns 503 with the degraded shape, rate-limited
// routes fail closed (429 + Retry-After, never a hang or a 500), the unlimited routes still answer,
// and when Redis comes back on the same port everything recovers without restarting the app.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { bearer, bodyOf, expectProblem, jsonInit, PASSWORD, uniqueEmail, type Session } from "../stack.ts";
import { call, cleanup, startBinary, type Binary } from "../binaries.ts";
import { health, timed } from "./probes.ts";
import { within } from "../wait.ts";
import { redisServerBinary, startRedisServer, type RedisServer } from "../redis-server.ts";

if (!redisServerBinary) console.log("[fault: redis stopped] skipped: no redis-server binary on PATH");

// The auth service pings the store every 5 s (services/auth/service.ts).
const AUTH_PROBE_MS = 5000;

describe.skipIf(!redisServerBinary)("combined serve with Redis stopped", () => {
  let redis: RedisServer;
  let db: TestDatabase;
  let app: Binary;
  let email: string;
  let session: Session;
  const get = (path: string, headers: Record<string, string> = {}) => call(app.url, path, { headers });
  const login = () => call(app.url, "/auth/login", jsonInit("POST", { email, password: PASSWORD }));

  beforeAll(async () => {
    [redis, db] = await Promise.all([startRedisServer({ ports: [6380, 6389] }), createTestDatabase("fault_redis")]);
    app = await startBinary("combined", { REDIS_URL: redis.url, DATABASE_URL: db.url, RATE_LIMIT_AUTH_REQUESTS: "1000" });
    email = uniqueEmail("redis");
    const res = await call(app.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Redis Fault" }));
    expect(res.status).toBe(201);
    session = await bodyOf<Session>(res);
  }, 40_000);

  afterAll(async () => {
    await cleanup();
    await redis?.close();
    await db?.drop();
  });

  test("while Redis is up, /health is 200 with every dependency healthy", async () => {
    expect(await health(app.url)).toEqual({
      status: 200,
      body: { status: "healthy", services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } } },
    });
  });

  test("with Redis killed, /health is 503 with the degraded shape within a few seconds", async () => {
    await redis.kill();
    const { body } = await within(5000, "/health 503", async () => {
      const current = await health(app.url);
      if (current.status !== 503) throw new Error(`still ${current.status}`);
      return current;
    });
    expect(body).toEqual({
      status: "degraded",
      services: { redis: { status: "unhealthy" }, auth: expect.any(Object), user: { status: "healthy" } },
    });
    // The auth service needs the store too: its own probe (every 5 s) turns it NOT_SERVING.
    const later = await within(AUTH_PROBE_MS + 2000, "auth unhealthy", async () => {
      const current = await health(app.url);
      if (current.body.services.auth?.status !== "unhealthy") throw new Error("auth still healthy");
      return current;
    });
    expect(later).toEqual({
      status: 503,
      body: {
        status: "degraded",
        services: {
          redis: { status: "unhealthy" },
          auth: { status: "unhealthy" },
          user: { status: "healthy" },
        },
      },
    });
    expect((await get("/health/ready")).status).toBe(503);
  });

  test("rate-limited routes are denied with 429 and Retry-After, fast, never a hang or a 500", async () => {
    const requests: [string, () => Promise<Response>][] = [
      ["POST /auth/login", login],
      [
        "POST /auth/register",
        () => call(app.url, "/auth/register", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "Nobody" })),
      ],
      ["POST /auth/refresh", () => call(app.url, "/auth/refresh", jsonInit("POST", { refresh_token: session.refresh_token }))],
      ["GET /users/me", () => get("/users/me", bearer(session))],
      ["GET /users", () => get("/users", bearer(session))],
      [`GET /users/{id}`, () => get(`/users/${session.user.id}`, bearer(session))],
    ];
    for (const [name, send] of requests) {
      const { value: res, ms } = await timed(send);
      expect({ name, fast: ms < 3000 }).toEqual({ name, fast: true });
      const problem = await expectProblem(res, 429);
      expect(problem.detail).toContain("rate limiting is unavailable");
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    }
  });

  test("/, /health/live and the OpenAPI document still answer", async () => {
    for (const path of ["/", "/health/live", "/api-docs/openapi.json"])
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 });
  });

  test("when Redis starts again on the same port, everything recovers without a restart", async () => {
    await redis.start();
    await within(AUTH_PROBE_MS + 10_000, "/health 200", async () => {
      const current = await health(app.url);
      if (current.status !== 200) throw new Error(JSON.stringify(current));
    });
    const res = await login();
    expect(res.status).toBe(200);
    const fresh = await bodyOf<Session>(res);
    const me = await get("/users/me", bearer(fresh));
    expect(me.status).toBe(200);
    expect(me.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
    expect((await bodyOf<Session["user"]>(me)).email).toBe(email);
    expect(app.output()).not.toContain('"level":"error"');
  }, 30_000);

  test("with Redis frozen (SIGSTOP), answers still come within its command timeout; then it recovers", async () => {
    redis.freeze();
    try {
      const frozen = await timed(() => health(app.url));
      expect(frozen.value.status).toBe(503);
      expect(frozen.ms).toBeLessThan(4000);
      const denied = await timed(login);
      await expectProblem(denied.value, 429);
      expect(denied.ms).toBeLessThan(4000);
    } finally {
      redis.thaw();
    }
    await within(10_000, "login after thaw", async () => {
      const res = await login();
      if (res.status !== 200) throw new Error(`${res.status}`);
    });
  }, 30_000);
});
