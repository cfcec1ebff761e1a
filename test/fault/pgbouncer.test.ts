// The user service's database through Debian's PgBouncer in transaction mode (DATABASE_URL at the
// pooler, DIRECT_DATABASE_URL at PostgreSQL): `migrate status|up` go direct, and `combined serve`
// answers 200 concurrent mixed requests through a pool far smaller than the load with no error but
// the documented 503 with Retry-After — never a 500, never a hang.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import { baseEnv, cleanup, dataDir, run, startBinary, type Binary } from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { type PgBouncer, pgbouncerBinary, startPgBouncer } from "../pgbouncer.ts";
import { bodyOf, jsonInit, PASSWORD, type Session, uniqueEmail } from "../stack.ts";
import { send } from "./journey.ts";

const skip = !pgbouncerBinary
  ? "no pgbouncer binary (Debian pgbouncer)"
  : !testDatabaseUrl()
    ? "no PostgreSQL (TEST_DATABASE_URL)"
    : undefined;
if (skip) console.log(`[fault: pgbouncer] skipped: ${skip}`);

describe.skipIf(!!skip)("the user service through PgBouncer in transaction mode", () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let app: Binary;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase("fault_pgbouncer");
    bouncer = await startPgBouncer(db.url!, { poolSize: 4, queryWaitSeconds: 3 });
    env = { DATABASE_URL: bouncer.url, DIRECT_DATABASE_URL: db.url!, DATABASE_POOL_SIZE: "8" };
  }, 30_000);

  afterAll(async () => {
    await cleanup();
    await bouncer?.close();
    await db?.drop();
  });

  test("migrate status and up use DIRECT_DATABASE_URL", async () => {
    const cli = (command: string) => run(["combined/main.ts", "migrate", command], { ...baseEnv(dataDir("pgbouncer-migrate")), ...env });
    // (toMatchObject with expect.stringContaining would rewrite the object it checks: Bun quirk.)
    const status = await cli("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("  pending  ");
    expect(status.stdout).toContain(`(migrations: 127.0.0.1:${new URL(db.url!).port || 5432}/`);
    const up = await cli("up");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("  applied  ");
    expect((await cli("status")).stdout).toContain(", 0 pending.");
  }, 60_000);

  test("200 concurrent mixed requests: no error but 503 with Retry-After, no 500, no hang", async () => {
    app = await startBinary("combined", {
      ...env,
      ...(testRedisUrl() ? { REDIS_URL: testRedisUrl()! } : {}),
      TRUSTED_PROXIES: "127.0.0.1/32",
      RATE_LIMIT_REQUESTS: "100000",
      RATE_LIMIT_AUTH_REQUESTS: "100000",
    });
    const register = async (tag: string) =>
      send(app.url, "/auth/register", jsonInit("POST", { email: uniqueEmail(tag), password: PASSWORD, name: "Pooled" }));
    const first = await bodyOf<Session>(await register("pool-admin"));
    expect(
      await run(["combined/main.ts", "users", "promote", first.user.email], { ...baseEnv(dataDir("pgbouncer-promote")), ...env }),
    ).toMatchObject({ code: 0 });
    const admin = await bodyOf<Session>(
      await send(app.url, "/auth/login", jsonInit("POST", { email: first.user.email, password: PASSWORD })),
    );
    const auth = { authorization: `Bearer ${admin.access_token}` };
    const requests = Array.from({ length: 200 }, (_, i): (() => Promise<Response>) => {
      switch (i % 5) {
        case 0:
          return () => send(app.url, "/users?page_size=50", { headers: auth });
        case 1:
          return () => send(app.url, `/users/${admin.user.id}`, { headers: auth });
        case 2:
          return () => send(app.url, "/users/me", { headers: auth });
        case 3:
          return i % 20 === 3 ? () => register("pool") : () => send(app.url, "/users?state=all&page_size=10", { headers: auth });
        default:
          return () => send(app.url, `/users/${admin.user.id}`, jsonInit("PUT", { name: `Pooled ${i}` }, auth));
      }
    });
    const started = performance.now();
    const answers = await Promise.all(
      requests.map(async (request) => {
        const res = await request();
        await res.arrayBuffer();
        return { status: res.status, retryAfter: res.headers.get("retry-after") };
      }),
    );
    expect(performance.now() - started).toBeLessThan(60_000);
    const unexpected = answers.filter(
      ({ status, retryAfter }) => !([200, 201].includes(status) || (status === 503 && Number(retryAfter) > 0)),
    );
    expect(unexpected).toEqual([]);
    expect(answers.filter(({ status }) => status < 300).length).toBeGreaterThan(100);
    expect(app.output()).not.toContain('"level":"error"');
    expect(await bouncer.log()).not.toMatch(/prepared statement .* (does not exist|already exists)/);
  }, 120_000);

  test("a saturated pooler answers 503 with Retry-After once its wait times out, not a hang", async () => {
    const user = await bodyOf<Session>(
      await send(app.url, "/auth/register", jsonInit("POST", { email: uniqueEmail("saturated"), password: PASSWORD, name: "Saturated" })),
    );
    // Every server connection of the pool held by an open transaction elsewhere.
    const holder = postgres(bouncer.url, { max: 4, prepare: false, onnotice: () => {} });
    const held = Array.from({ length: 4 }, () => holder.begin((tx) => tx`select pg_sleep(8)`).catch(() => {}));
    try {
      await Bun.sleep(300);
      const writes = [
        () =>
          send(app.url, `/users/${user.user.id}`, jsonInit("PUT", { name: "Waiting" }, { authorization: `Bearer ${user.access_token}` })),
        () => send(app.url, "/auth/register", jsonInit("POST", { email: uniqueEmail("saturated"), password: PASSWORD, name: "Saturated" })),
      ];
      for (const write of writes) {
        const started = performance.now();
        const res = await write();
        const answer = {
          status: res.status,
          retryAfter: Number(res.headers.get("retry-after")) > 0,
          fast: performance.now() - started < 15_000,
        };
        expect(answer).toEqual({ status: 503, retryAfter: true, fast: true });
      }
    } finally {
      await Promise.all(held);
      await holder.end({ timeout: 1 });
    }
  }, 60_000);
});
