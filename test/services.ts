// In-process services for tests: real database (PostgreSQL or PGlite) and real store (Redis or the
// in-process one), called through connect's createRouterTransport — the network edge is the only fake.
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MailOptions } from "../services/auth/service.ts";
import { createClient, type Client, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { createStore, type Store } from "../lib/redis/index.ts";
import type { Database } from "../lib/db/database.ts";
import { migrateUp } from "../lib/db/migrate.ts";
import { createLogger } from "../lib/log.ts";
import { inProcessTransport } from "../lib/rpc/in-process.ts";
import { authorizeCallers, type Caller, type CallerCredentials } from "../lib/rpc/callers.ts";
import { createRevocations } from "../lib/tokens/revocation.ts";
import { userRoutes } from "../services/user/user.rpc.ts";
import { testRedisUrl } from "./backends.ts";
import { createTestDatabase } from "./databases.ts";

/** TEST_CREDENTIALS are each caller's secret for tests that call over the network. */
export const TEST_CREDENTIALS = {
  gateway: ["test-gateway-token-0123456789abcdef0123"],
  "auth-service": ["test-auth-service-token-0123456789abcdef"],
  operator: ["test-operator-token-0123456789abcdef012"],
} as const satisfies CallerCredentials;
export const silentLog = createLogger({ test: true }, "error");

export { inProcessTransport };

export type TestUserService = {
  db: Database;
  store: Store;
  routes: (router: ConnectRouter) => void;
  /** users is an operator's client: every method (the service's own tests call them all). */
  users: Client<typeof UserService>;
  /** internal is the auth service's client (it may read password hashes). */
  internal: Client<typeof UserService>;
  /** as is an in-process transport for any caller, checked like a network call. */
  as(caller: Caller): Transport;
  close(): Promise<void>;
};

/** UNLIMITED_AUTH_LIMITS keeps the auth service's own limits out of tests that aren't about them. */
export const UNLIMITED_AUTH_LIMITS = {
  perAddress: { max: 100_000, windowSeconds: 60 },
  perAccount: { max: 100_000, windowSeconds: 60 },
  mail: { perEmail: { max: 100_000, windowSeconds: 60 }, perAddress: { max: 100_000, windowSeconds: 60 } },
  prefixes: { ipv4: 32, ipv6: 64 },
};

/** testMailOptions is how test auth services mail: to the development outbox in a temp folder unless
 * smtpUrl is given, with retries a few hundred milliseconds apart. */
export function testMailOptions(overrides: Partial<MailOptions> = {}): MailOptions {
  return {
    from: "bun-api-starter tests <no-reply@example.com>",
    outboxDir: join(tmpdir(), `outbox-${crypto.randomUUID().slice(0, 8)}`),
    publicBaseUrl: "https://app.example.com",
    requireVerifiedEmail: false,
    ttls: { password_reset: 1800, email_verification: 172_800, email_change: 172_800 },
    queue: { backoffMs: 200, maxBackoffMs: 1000, lockMs: 2000, closeTimeoutMs: 1000 },
    ...overrides,
  };
}

/** TEST_LIFETIMES are the token lifetimes test services keep revocation marks for. */
export const TEST_LIFETIMES = { accessSeconds: 3600, refreshSeconds: 86_400 };

/** startTestUserService runs the user service on a throwaway, migrated database. */
export async function startTestUserService(): Promise<TestUserService> {
  const testDb = await createTestDatabase("users");
  const db = await testDb.open();
  await db.withSql((sql) => migrateUp(sql));
  const prefix = `test:${crypto.randomUUID().slice(0, 8)}:`;
  const store = createStore({ url: testRedisUrl(), prefix });
  const routes = userRoutes({ prisma: db.prisma, cache: store, log: silentLog, revocations: createRevocations(store, TEST_LIFETIMES) });
  const authorize = authorizeCallers(TEST_CREDENTIALS);
  const as = (caller: Caller) => inProcessTransport(routes, { caller, interceptors: [authorize] });
  return {
    db,
    store,
    routes,
    users: createClient(UserService, as("operator")),
    internal: createClient(UserService, as("auth-service")),
    as,
    async close() {
      if (store.redis) {
        const keys = await store.redis.keys(`${prefix}*`);
        if (keys.length > 0) await store.redis.del(...keys);
      }
      await store.close();
      await db.close();
      await testDb.drop();
    },
  };
}
