// In-process services for tests: real database (PostgreSQL or PGlite) and real store (Redis or the
// in-process one), called through connect's createRouterTransport — the network edge is the only fake.
import { createClient, type Client, type ConnectRouter } from "@connectrpc/connect";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { createStore, type Store } from "../lib/redis/index.ts";
import type { Database } from "../lib/db/database.ts";
import { migrateUp } from "../lib/db/migrate.ts";
import { createLogger } from "../lib/log.ts";
import { inProcessTransport } from "../lib/rpc/in-process.ts";
import { sendServiceToken } from "../lib/rpc/service-token.ts";
import { userRoutes } from "../services/user/user.rpc.ts";
import { testRedisUrl } from "./backends.ts";
import { createTestDatabase } from "./databases.ts";

export const INTERNAL_TOKEN = "test-internal-token-0123456789abcdef";
export const silentLog = createLogger({ test: true }, "error");

export { inProcessTransport };

export type TestUserService = {
  db: Database;
  store: Store;
  routes: (router: ConnectRouter) => void;
  /** users is a client without the service credential, like the gateway's. */
  users: Client<typeof UserService>;
  /** internal is a client with the credential, like the auth service's. */
  internal: Client<typeof UserService>;
  close(): Promise<void>;
};

/** startTestUserService runs the user service on a throwaway, migrated database. */
export async function startTestUserService(): Promise<TestUserService> {
  const testDb = await createTestDatabase("users");
  const db = await testDb.open();
  await db.withSql((sql) => migrateUp(sql));
  const prefix = `test:${crypto.randomUUID().slice(0, 8)}:`;
  const store = createStore({ url: testRedisUrl(), prefix });
  const routes = userRoutes({ prisma: db.prisma, cache: store, log: silentLog, internalToken: INTERNAL_TOKEN, tokenLifetimeSeconds: 3600 });
  const transport = inProcessTransport(routes);
  const internalTransport = inProcessTransport(routes, { clientInterceptors: [sendServiceToken(INTERNAL_TOKEN)] });
  return {
    db,
    store,
    routes,
    users: createClient(UserService, transport),
    internal: createClient(UserService, internalTransport),
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
