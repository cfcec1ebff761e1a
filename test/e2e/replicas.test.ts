// Issue #16 item 3: replicas behave as one. Two gateways and two replicas of each service on one
// PostgreSQL and one Redis, the services reached through the client-side balancing the
// manifests use (here a list of replica URLs; in a cluster a headless Service's DNS answers): the
// limits are shared, a logout through one gateway is refused at once by the other, and killing one
// replica of each service fails no request that is safe to retry — the rest answer 503 with
// Retry-After, never a hang.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import {
  MAIL_ENV,
  baseEnv,
  CREDENTIALS,
  cleanup,
  dataDir,
  freePorts,
  JWT_SECRET,
  PASSWORD,
  type Running,
  run,
  start,
  uniqueEmail,
  type ClientCall,
  fromClient,
} from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import type { Session } from "../stack.ts";

setDefaultTimeout(30_000);

const missing = !testDatabaseUrl() || !testRedisUrl();
let testDb: TestDatabase | undefined;
const replicas: { user: Running[]; auth: Running[] } = { user: [], auth: [] };
const gateways: string[] = [];

afterAll(async () => {
  await cleanup();
  await testDb?.drop();
});

// A request from a client at `address` (behind the gateways' trusted proxy), through gateway i.
const call = (i: number, address: string, path: string, init?: ClientCall) =>
  fromClient(gateways[i % gateways.length]!, address, path, init);

describe.skipIf(missing)("two gateways and two replicas of each service", () => {
  beforeAll(async () => {
    testDb = await createTestDatabase("e2e_replicas");
    const backends = { NODE_ENV: "production", DATABASE_URL: testDb.url!, REDIS_URL: testRedisUrl()! };
    const { GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN } = CREDENTIALS;
    expect((await run(["services/user/main.ts", "migrate", "up"], { ...baseEnv(dataDir("replicas-migrate")), ...backends })).code).toBe(0);
    const ports = freePorts(10);
    const [u1, u2, ui1, ui2, a1, a2, ai1, ai2, g1, g2] = ports as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const userUrls = `http://127.0.0.1:${ui1},http://127.0.0.1:${ui2}`;
    const authUrls = `http://127.0.0.1:${ai1},http://127.0.0.1:${ai2}`;
    const ready = /listening on http:\/\/\S+/;
    for (const [port, internal] of [
      [u1, ui1],
      [u2, ui2],
    ]) {
      replicas.user.push(
        await start(
          ["services/user/main.ts", "serve", "--port", `${port}`],
          {
            ...baseEnv(dataDir("replicas-user")),
            ...backends,
            GATEWAY_TOKEN,
            AUTH_SERVICE_TOKEN,
            OPERATOR_TOKEN,
            USER_SERVICE_INTERNAL_PORT: `${internal}`,
          },
          ready,
        ),
      );
    }
    for (const [port, internal] of [
      [a1, ai1],
      [a2, ai2],
    ]) {
      replicas.auth.push(
        await start(
          ["services/auth/main.ts", "serve", "--port", `${port}`],
          {
            ...baseEnv(dataDir("replicas-auth")),
            NODE_ENV: "production",
            REDIS_URL: backends.REDIS_URL,
            JWT_SECRET,
            GATEWAY_TOKEN,
            AUTH_SERVICE_TOKEN,
            OPERATOR_TOKEN,
            USER_SERVICE_URL: userUrls,
            AUTH_SERVICE_INTERNAL_PORT: `${internal}`,
            ...MAIL_ENV,
          },
          ready,
        ),
      );
    }
    for (const port of [g1, g2]) {
      await start(
        ["gateway/main.ts", "serve", "--port", `${port}`],
        {
          ...baseEnv(dataDir("replicas-gateway")),
          NODE_ENV: "production",
          REDIS_URL: backends.REDIS_URL,
          JWT_SECRET,
          GATEWAY_TOKEN,
          AUTH_SERVICE_URL: authUrls,
          USER_SERVICE_URL: userUrls,
          TRUSTED_PROXIES: "127.0.0.1/32",
        },
        /docs: \S+/,
      );
      gateways.push(`http://127.0.0.1:${port}`);
    }
  }, 90_000);

  test("the /auth limit is one budget across both gateways: the 11th request is 429", async () => {
    const statuses = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await call(i, "198.51.100.40", "/auth/login", { body: { email: uniqueEmail("nobody"), password: PASSWORD } })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
  });

  test("a logout through one gateway is refused at once by the other", async () => {
    const res = await call(0, "198.51.100.41", "/auth/register", {
      body: { email: uniqueEmail("replica"), password: PASSWORD, name: "R" },
    });
    const session = (await res.json()) as Session;
    expect((await call(1, "198.51.100.41", "/users/me", { token: session.access_token })).status).toBe(200);
    expect((await call(0, "198.51.100.41", "/auth/logout", { method: "POST", token: session.access_token })).status).toBe(204);
    expect((await call(1, "198.51.100.41", "/users/me", { token: session.access_token })).status).toBe(401);
    expect((await call(1, "198.51.100.41", "/auth/refresh", { body: { refresh_token: session.refresh_token } })).status).toBe(401);
  });

  test("one replica of each service killed: reads all answer; anything else answers or is a 503 with Retry-After", async () => {
    const email = uniqueEmail("survivor");
    const res = await call(0, "198.51.100.42", "/auth/register", { body: { email, password: PASSWORD, name: "S" } });
    const session = (await res.json()) as Session;
    // Connections to both replicas are open (keep-alive) when one of each dies.
    for (let i = 0; i < 4; i++)
      expect((await call(i, "198.51.100.42", `/users/${session.user.id}`, { token: session.access_token })).status).toBe(200);
    replicas.user[0]!.signal("SIGKILL");
    replicas.auth[0]!.signal("SIGKILL");
    await Promise.all([replicas.user[0]!.exited, replicas.auth[0]!.exited]);

    // GetUser has no side effects: a call that meets the dead replica is sent to the live one.
    for (let i = 0; i < 10; i++) {
      const read = await call(i, "198.51.100.42", `/users/${session.user.id}`, { token: session.access_token });
      expect(read.status).toBe(200);
    }
    // Login, register: answered, or a clean 503 with Retry-After when the call may have reached the dead replica.
    const outcomes = [];
    for (let i = 0; i < 6; i++) {
      const attempt = await call(i, `198.51.100.${50 + i}`, "/auth/login", { body: { email, password: PASSWORD } });
      outcomes.push(attempt.status === 503 ? `503 retry-after=${attempt.headers.get("retry-after") !== null}` : String(attempt.status));
      await attempt.body?.cancel();
    }
    for (const outcome of outcomes) expect(["200", "503 retry-after=true"]).toContain(outcome);
    expect(outcomes).toContain("200");
  });
});
