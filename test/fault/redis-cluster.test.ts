// The binaries on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES), in combined serve and in split
// mode: the whole client journey and exact rate limits, keys spread over more than one master; one
// master stopped fails closed (429/503 with Retry-After, no 500, no hang), and once it is back both
// heal without a restart. The mail queue (BullMQ) and the one-time tokens work there too: a
// registration's verification mail reaches a real SMTP server (aiosmtpd) and its link works once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Cluster } from "ioredis";
import { baseEnv, cleanup, dataDir, REDIS_KEY_PREFIX, run, startBinary, type Binary } from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { clusterSkipReason, type RedisCluster, startRedisCluster } from "../redis-cluster.ts";
import { bodyOf, jsonInit, PASSWORD, type Session, uniqueEmail } from "../stack.ts";
import { within } from "../wait.ts";
import { health } from "./probes.ts";
import { aiosmtpdPython, type SmtpServer, startSmtpServer, tokenOf } from "../smtp-server.ts";
import { expectExactLimit, expectFailsClosed, journey, send } from "./journey.ts";

if (clusterSkipReason) console.log(`[fault: redis cluster] skipped: ${clusterSkipReason}`);

describe.skipIf(!!clusterSkipReason)("the binaries on a 3-master Redis Cluster", () => {
  let cluster: RedisCluster;
  let db: TestDatabase;
  let combined: Binary;
  let gateway: Binary;
  let redisEnv: Record<string, string>;
  let smtp: SmtpServer | undefined;
  const modes = () =>
    [
      ["combined serve", combined.url],
      ["split mode", gateway.url],
    ] as const;
  const promote = async (email: string) => {
    const done = await run(["combined/main.ts", "users", "promote", email], {
      ...baseEnv(dataDir("cluster-promote")),
      DATABASE_URL: db.url!,
      ...redisEnv,
    });
    expect(done).toMatchObject({ code: 0 });
  };

  beforeAll(async () => {
    [cluster, db, smtp] = await Promise.all([
      startRedisCluster(3),
      createTestDatabase("fault_cluster"),
      aiosmtpdPython ? startSmtpServer() : undefined,
    ]);
    redisEnv = { REDIS_CLUSTER_NODES: cluster.nodes.join(",") };
    const limits = { TRUSTED_PROXIES: "127.0.0.1/32", RATE_LIMIT_REQUESTS: "3", RATE_LIMIT_AUTH_REQUESTS: "3" };
    const mail = { SMTP_URL: smtp?.url, PUBLIC_BASE_URL: "https://app.example.com" };
    combined = await startBinary("combined", { DATABASE_URL: db.url, ...redisEnv, ...limits, ...mail });
    const user = await startBinary("user", { DATABASE_URL: db.url, ...redisEnv });
    const auth = await startBinary("auth", { ...redisEnv, USER_SERVICE_URL: user.url, ...mail });
    gateway = await startBinary("gateway", { ...redisEnv, ...limits, AUTH_SERVICE_URL: auth.url, USER_SERVICE_URL: user.url });
  }, 60_000);

  afterAll(async () => {
    await cleanup();
    await cluster?.close();
    await smtp?.close();
    await db?.drop();
  });

  test("the banner names the cluster", () => {
    expect(combined.stdout()).toContain(`redis cluster ${cluster.nodes.join(",")}`);
  });

  test("register, login, /users/me, refresh, logout and revocation, admin list: in combined serve and split mode", async () => {
    for (const [, base] of modes()) await journey(base, promote);
  }, 60_000);

  test.skipIf(!aiosmtpdPython)(
    "a registration's verification mail goes through the queue on the cluster; its link verifies the address once",
    async () => {
      for (const [name, base] of modes()) {
        const email = uniqueEmail("cluster-mail");
        const registered = await send(base, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Mail" }));
        expect(registered.status).toBe(201);
        const mail = await smtp!.waitFor((m) => m.to === email && /Confirm your email address/.test(m.subject), 20_000);
        const token = tokenOf(mail);
        expect(token).toBeDefined();
        const verified = await send(base, "/auth/email/verify", jsonInit("POST", { token }));
        expect({ name, status: verified.status }).toEqual({ name, status: 200 });
        expect((await bodyOf<{ email_verified_at?: string }>(verified)).email_verified_at).toBeString();
        const again = await send(base, "/auth/email/verify", jsonInit("POST", { token }));
        expect({ name, status: again.status }).toEqual({ name, status: 422 });
      }
    },
    60_000,
  );

  test("rate limits are exact: the 4th of 3 allowed is a 429", async () => {
    for (const [, base] of modes()) {
      await expectExactLimit(base, "/auth/login", 3, jsonInit("POST", { email: uniqueEmail("limit"), password: PASSWORD }));
      const session = await bodyOf<Session>(
        await send(base, "/auth/register", jsonInit("POST", { email: uniqueEmail("limit"), password: PASSWORD, name: "Limit" })),
      );
      await expectExactLimit(base, "/users/me", 3, { headers: { authorization: `Bearer ${session.access_token}` } });
    }
  }, 30_000);

  test("the run's keys are spread over more than one master", async () => {
    const client = new Cluster(
      cluster.nodes.map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })),
      { lazyConnect: true },
    );
    try {
      await client.connect();
      const counts = await Promise.all(
        client.nodes("master").map(async (node) => (await node.scan("0", "MATCH", `${REDIS_KEY_PREFIX}*`, "COUNT", 100_000))[1].length),
      );
      expect(counts.filter((count) => count > 0).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }
  });

  test("one master stopped: requests fail closed with Retry-After, never a 500 or a hang; restarted: healthy again without a restart", async () => {
    const sessions = await Promise.all(
      modes().map(async ([, base]) =>
        bodyOf<Session>(
          await send(base, "/auth/register", jsonInit("POST", { email: uniqueEmail("down"), password: PASSWORD, name: "Down" })),
        ),
      ),
    );
    const stopped = cluster.masters[1]!;
    await stopped.kill();
    try {
      for (const [i, [, base]] of modes().entries()) {
        await within(10_000, "/health 503", async () => {
          if ((await health(base)).status !== 503) throw new Error("still healthy");
        });
        await expectFailsClosed(base, sessions[i]!);
      }
    } finally {
      await stopped.start();
    }
    await cluster.healthy();
    for (const [name, base] of modes()) {
      await within(30_000, `${name} healthy`, async () => {
        if ((await health(base)).status !== 200) throw new Error("not yet");
      });
      const login = await send(
        base,
        "/auth/login",
        jsonInit("POST", { email: sessions[modes().findIndex(([n]) => n === name)]!.user.email, password: PASSWORD }),
      );
      expect(login.status).toBe(200);
    }
    for (const binary of [combined, gateway]) expect(binary.output()).not.toContain('"status":500');
  }, 90_000);
});
