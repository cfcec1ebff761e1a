// `bun combined/main.ts serve` as a newcomer runs it: first with nothing configured (embedded PGlite,
// the in-process store), then with DATABASE_URL and REDIS_URL, then as the Docker image runs it
// (NODE_ENV=production). Each development run registers a user, makes it an admin with
// `users promote` and lists users with it. PGlite is single-process, so promote runs while serve is
// stopped; with Redis the restarted serve must not answer from a cached copy of the old role.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import type { Session, UserPageJson } from "../stack.ts";
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
  run,
  start,
  redisKeys,
  uniqueEmail,
  where,
  type Env,
  type Running,
} from "../binaries.ts";

// Every test here waits on real processes (1–3 s to start, more on a busy machine).
setDefaultTimeout(30_000);

type User = Session["user"];

/** Backends is one way to configure serve, with the banner lines that must name it. */
type Backends = { name: string; skip?: string; env: () => Promise<Env>; database: (env: Env) => string; redis: string };

const testDbs: TestDatabase[] = [];
afterAll(async () => {
  await cleanup();
  await Promise.all(testDbs.map((db) => db.drop()));
});

const variants: Backends[] = [
  {
    name: "embedded defaults (no DATABASE_URL, no REDIS_URL)",
    env: async () => ({}),
    database: (env) => `  database      embedded PGlite at ${env.DATA_DIR}/pglite `,
    redis: "  redis         in-process ",
  },
  {
    name: `DATABASE_URL (throwaway database)${testRedisUrl() ? " and REDIS_URL" : ""}`,
    skip: testDatabaseUrl() ? undefined : "no PostgreSQL answered (TEST_DATABASE_URL is empty)",
    async env() {
      const db = await createTestDatabase("e2e_combined");
      testDbs.push(db);
      const redis = testRedisUrl();
      return { DATABASE_URL: db.url!, ...(redis ? { REDIS_URL: redis } : {}) };
    },
    database: (env) => `  database      PostgreSQL ${where(env.DATABASE_URL!, "5432")}\n`,
    redis: testRedisUrl() ? `  redis         redis ${where(testRedisUrl()!, "6379")}\n` : "  redis         in-process ",
  },
];

for (const variant of variants) {
  if (variant.skip) console.error(`[combined e2e] skipping "${variant.name}": ${variant.skip}`);

  describe.skipIf(variant.skip !== undefined)(`combined serve with ${variant.name}`, () => {
    let env: Env;
    let serve: Running;
    let ports: { gateway: number; auth: number; user: number };
    let api: ReturnType<typeof http>;
    const email = uniqueEmail("combined");
    let user: User;

    async function startServe(): Promise<void> {
      const [gateway, auth, user] = freePorts(3) as [number, number, number];
      ports = { gateway, auth, user };
      const args = ["combined/main.ts", "serve", "--gateway-port", `${gateway}`, "--auth-port", `${auth}`, "--user-port", `${user}`];
      serve = await start(args, env, /^ {2}redis +\S.*$/m);
      api = http(`http://127.0.0.1:${gateway}`);
    }

    beforeAll(async () => {
      env = { ...baseEnv(dataDir("combined")), ...(await variant.env()) };
      await startServe();
    }, 60_000);

    test("prints the banner: mode, gateway and docs URLs, database and redis", () => {
      const banner = serve.stdout();
      expect(banner).toMatch(/· combined mode \(development: gateway, auth and user services in one process\)/);
      expect(banner).toContain(`  gateway       http://127.0.0.1:${ports.gateway}\n`);
      expect(banner).toContain(`  docs          http://127.0.0.1:${ports.gateway}/swagger-ui\n`);
      expect(banner).toContain(`  auth service  http://127.0.0.1:${ports.auth} `);
      expect(banner).toContain(`  user service  http://127.0.0.1:${ports.user} `);
      expect(banner).toContain(variant.database(env));
      expect(banner).toContain(variant.redis);
    });

    test("GET / answers 200 with the name and the docs path", async () => {
      const res = await api("/");
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ name: "bun-api-starter", docs: "/swagger-ui" });
    });

    test("register → login → GET /users/me", async () => {
      const registered = await api("/auth/register", { body: { email, password: PASSWORD, name: "Combined E2E" } });
      expect(registered.status).toBe(201);
      user = ((await registered.json()) as Session).user;
      expect(user).toMatchObject({ email, role: "user" });

      const login = await api("/auth/login", { body: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const session = (await login.json()) as Session;
      const me = await api("/users/me", { token: session.access_token });
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual(user);
      expect((await api("/users", { token: session.access_token })).status).toBe(403);
      // With Redis, serve keeps its keys under the run's REDIS_KEY_PREFIX (see test/binaries.ts).
      if (env.REDIS_URL) {
        expect(await redisKeys()).toEqual(
          expect.arrayContaining(["rate_limit:auth:127.0.0.1", "rate_limit:users:127.0.0.1", `{user:${user.id}}`]),
        );
      }
    });

    test("users promote (serve stopped) makes an admin who can list users after logging in again", async () => {
      expect(await serve.stop()).toBe(0);
      const promoted = await run(["combined/main.ts", "users", "promote", email.toUpperCase()], env);
      expect(promoted).toMatchObject({ code: 0, stdout: expect.stringContaining(`${email} is now an admin`) });

      await startServe();
      const login = await api("/auth/login", { body: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const session = (await login.json()) as Session;
      expect(session.user.role).toBe("admin");
      const list = await api("/users?state=all&page_size=100", { token: session.access_token });
      expect(list.status).toBe(200);
      const page = (await list.json()) as UserPageJson;
      expect(page.users).toContainEqual({ ...user, role: "admin", updated_at: expect.any(String) });
      const me = await api("/users/me", { token: session.access_token });
      expect(((await me.json()) as User).role).toBe("admin");
    }, 60_000);
  });
}

// The Docker image runs `combined serve` with NODE_ENV=production and exactly the variables the
// README lists; nothing else (USER_SERVICE_URL is a split-mode setting) may be demanded.
const production = testDatabaseUrl() && testRedisUrl();
if (!production)
  console.error("[combined e2e] skipping NODE_ENV=production: needs PostgreSQL and Redis (TEST_DATABASE_URL or TEST_REDIS_URL is empty)");

describe.skipIf(!production)("combined serve with NODE_ENV=production", () => {
  test("starts with DATABASE_URL, REDIS_URL, JWT_SECRET, the three caller secrets, SMTP_URL and PUBLIC_BASE_URL alone, says production, serves /health", async () => {
    const db = await createTestDatabase("e2e_combined_prod");
    testDbs.push(db);
    const [gateway, auth, user] = freePorts(3) as [number, number, number];
    const env = {
      ...baseEnv(dataDir("combined-prod")),
      NODE_ENV: "production",
      DATABASE_URL: db.url!,
      REDIS_URL: testRedisUrl()!,
      JWT_SECRET,
      ...CREDENTIALS,
      ...MAIL_ENV,
    };
    const args = ["combined/main.ts", "serve", "--gateway-port", `${gateway}`, "--auth-port", `${auth}`, "--user-port", `${user}`];
    const serve = await start(args, env, /^ {2}redis +\S.*$/m);
    expect(serve.stdout()).toMatch(/combined mode \(production\b/);
    expect(serve.stderr()).not.toContain("note:");
    const health = await http(`http://127.0.0.1:${gateway}`)("/health");
    expect(health.status).toBe(200);
    expect(await serve.stop()).toBe(0);
  });
});

/** listeners reads which local addresses listen on a TCP port, from /proc/net/tcp{,6} (no connection made). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local?.endsWith(`:${hexPort}`)) continue; // 0A: LISTEN
      const hex = local.split(":")[0] ?? "";
      found.push(
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .map((byte) => Number.parseInt(byte, 16))
              .reverse()
              .join(".")
          : hex === "0".repeat(32)
            ? "::"
            : hex === "00000000000000000000000001000000"
              ? "::1"
              : hex,
      );
    }
  }
  return found.sort();
}

describe("combined serve's listening addresses", () => {
  test("the service ports listen on loopback only unless SERVICE_HOST says otherwise; the gateway keeps SERVER_HOST", async () => {
    const [gateway, auth, user] = freePorts(3) as [number, number, number];
    const { SERVER_HOST: _, ...env } = baseEnv(dataDir("combined-listen"));
    const args = ["combined/main.ts", "serve", "--gateway-port", `${gateway}`, "--auth-port", `${auth}`, "--user-port", `${user}`];
    const serve = await start(args, env, /^ {2}redis +\S.*$/m);
    try {
      expect(listeners(auth)).toEqual(["127.0.0.1"]);
      expect(listeners(user)).toEqual(["127.0.0.1"]);
      expect(listeners(gateway)).toEqual(["0.0.0.0"]);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const widened = await start(args, { ...env, SERVER_HOST: "127.0.0.1", SERVICE_HOST: "::1" }, /^ {2}redis +\S.*$/m);
    try {
      expect(listeners(auth)).toEqual(["::1"]);
      expect(listeners(user)).toEqual(["::1"]);
      expect(listeners(gateway)).toEqual(["127.0.0.1"]);
    } finally {
      expect(await widened.stop()).toBe(0);
    }
  });
});
