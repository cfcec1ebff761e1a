// `combined serve` on a Sentinel-managed Redis (REDIS_SENTINELS + REDIS_SENTINEL_NAME): a master, a
// replica and a sentinel from Debian's redis-server. The master killed by its pid: requests fail
// closed (429/503 with Retry-After, no 500, no hang) until the sentinel promotes the replica, then
// succeed again without a restart of the binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { baseEnv, cleanup, dataDir, run, startBinary, type Binary } from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { clusterSkipReason, type RedisSentinels, startRedisSentinels } from "../redis-cluster.ts";
import { bodyOf, jsonInit, PASSWORD, type Session, uniqueEmail } from "../stack.ts";
import { within } from "../wait.ts";
import { expectFailsClosed, journey, send } from "./journey.ts";
import { health } from "./probes.ts";

if (clusterSkipReason) console.log(`[fault: redis sentinel] skipped: ${clusterSkipReason}`);

describe.skipIf(!!clusterSkipReason)("combined serve behind Redis Sentinel", () => {
  let sentinels: RedisSentinels;
  let db: TestDatabase;
  let app: Binary;

  beforeAll(async () => {
    [sentinels, db] = await Promise.all([startRedisSentinels(1), createTestDatabase("fault_sentinel")]);
    app = await startBinary("combined", {
      DATABASE_URL: db.url,
      REDIS_SENTINELS: sentinels.sentinels.join(","),
      REDIS_SENTINEL_NAME: sentinels.name,
      TRUSTED_PROXIES: "127.0.0.1/32",
    });
  }, 60_000);

  afterAll(async () => {
    await cleanup();
    await sentinels?.close();
    await db?.drop();
  });

  test("serves the whole journey through the sentinels' master", async () => {
    expect(app.stdout()).toContain(`redis sentinel master ${sentinels.name} via ${sentinels.sentinels.join(",")}`);
    await journey(app.url, async (email) => {
      const env = { DATABASE_URL: db.url!, REDIS_SENTINELS: sentinels.sentinels.join(","), REDIS_SENTINEL_NAME: sentinels.name };
      expect(await run(["combined/main.ts", "users", "promote", email], { ...baseEnv(dataDir("sentinel-promote")), ...env })).toMatchObject(
        { code: 0 },
      );
    });
  }, 30_000);

  test("the master killed: fail closed while there is none, then the promoted replica serves, no restart", async () => {
    const email = uniqueEmail("failover");
    const session = await bodyOf<Session>(
      await send(app.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Failover" })),
    );
    expect(sentinels.masterAddress()).toBe(sentinels.master.address);
    await sentinels.master.kill();
    await within(5000, "/health 503", async () => {
      if ((await health(app.url)).status !== 503) throw new Error("still healthy");
    });
    await expectFailsClosed(app.url, session);
    await within(30_000, "promotion", async () => {
      if (sentinels.masterAddress() !== sentinels.replica.address) throw new Error(`master is ${sentinels.masterAddress()}`);
    });
    await within(30_000, "healthy again", async () => {
      if ((await health(app.url)).status !== 200) throw new Error("not yet");
    });
    const login = await send(app.url, "/auth/login", jsonInit("POST", { email, password: PASSWORD }));
    expect(login.status).toBe(200);
    const me = await send(app.url, "/users/me", { headers: { authorization: `Bearer ${(await bodyOf<Session>(login)).access_token}` } });
    expect(me.status).toBe(200);
    expect(app.output()).not.toContain('"status":500');
  }, 90_000);
});
