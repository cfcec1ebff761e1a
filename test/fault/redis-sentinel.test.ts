// `combined serve` on a Sentinel-managed Redis (REDIS_SENTINELS + REDIS_SENTINEL_NAME): a master, a
// replica and a sentinel from Debian's redis-server. The master killed by its pid: requests fail
// closed (429/503 with Retry-After, no 500, no hang) until the sentinel promotes the replica, then
// succeed again without a restart of the binary. Mail (the BullMQ queue) follows the failover too:
// a verification mail asked for after the promotion reaches a real SMTP server (aiosmtpd).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { baseEnv, cleanup, dataDir, run, startBinary, type Binary } from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { clusterSkipReason, type RedisSentinels, startRedisSentinels } from "../redis-cluster.ts";
import { bodyOf, jsonInit, PASSWORD, type Session, uniqueEmail } from "../stack.ts";
import { within } from "../wait.ts";
import { expectFailsClosed, journey, send } from "./journey.ts";
import { health } from "./probes.ts";
import { aiosmtpdPython, type SmtpServer, startSmtpServer, tokenOf } from "../smtp-server.ts";

if (clusterSkipReason) console.log(`[fault: redis sentinel] skipped: ${clusterSkipReason}`);

describe.skipIf(!!clusterSkipReason)("combined serve behind Redis Sentinel", () => {
  let sentinels: RedisSentinels;
  let db: TestDatabase;
  let app: Binary;
  let smtp: SmtpServer | undefined;
  const mailed = async (email: string) => {
    const mail = await smtp!.waitFor((m) => m.to === email && /Confirm your email address/.test(m.subject), 30_000);
    const verified = await send(app.url, "/auth/email/verify", jsonInit("POST", { token: tokenOf(mail) }));
    expect(verified.status).toBe(200);
  };

  beforeAll(async () => {
    [sentinels, db, smtp] = await Promise.all([
      startRedisSentinels(1),
      createTestDatabase("fault_sentinel"),
      aiosmtpdPython ? startSmtpServer() : undefined,
    ]);
    app = await startBinary("combined", {
      DATABASE_URL: db.url,
      REDIS_SENTINELS: sentinels.sentinels.join(","),
      REDIS_SENTINEL_NAME: sentinels.name,
      TRUSTED_PROXIES: "127.0.0.1/32",
      SMTP_URL: smtp?.url,
      PUBLIC_BASE_URL: "https://app.example.com",
    });
  }, 60_000);

  afterAll(async () => {
    await cleanup();
    await sentinels?.close();
    await smtp?.close();
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

  test.skipIf(!aiosmtpdPython)(
    "a registration's verification mail goes through the queue on the sentinels' master",
    async () => {
      const email = uniqueEmail("sentinel-mail");
      const registered = await send(app.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Mail" }));
      expect(registered.status).toBe(201);
      await mailed(email);
    },
    45_000,
  );

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
    if (aiosmtpdPython) {
      // The queue's worker and producer follow the failover: a mail asked for now is sent.
      const other = uniqueEmail("failover-mail");
      const registered = await send(app.url, "/auth/register", jsonInit("POST", { email: other, password: PASSWORD, name: "After" }));
      expect(registered.status).toBe(201);
      await mailed(other);
    }
    expect(app.output()).not.toContain('"status":500');
  }, 90_000);
});
