// startUserService wires the user service onto its RPC server; used by the user-service binary
// and by `combined`, which shares the database and store and also calls the routes in-process.
import type { Store } from "../../lib/redis/types.ts";
import type { Database } from "../../lib/db/database.ts";
import { migrateUp } from "../../lib/db/migrate.ts";
import type { Logger } from "../../lib/log.ts";
import { errorInterceptor } from "../../lib/rpc/errors.ts";
import { probeDependency } from "../../lib/rpc/probe.ts";
import { startRpcServer, type RpcServer } from "../../lib/rpc/server.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { userRoutes } from "./user.rpc.ts";

export type UserServiceOptions = {
  db: Database;
  store: Store;
  log: Logger;
  host: string;
  port: number;
  internalToken: string;
  tokenLifetimeSeconds: number;
  /** healthProbeMs is how often the database is pinged for health; default 5 s. */
  healthProbeMs?: number;
  /** shutdownTimeoutMs is how long close() waits for in-flight calls; default 10 s. */
  shutdownTimeoutMs?: number;
};

/** startUserService applies pending migrations, then serves UserService with health and reflection. */
export async function startUserService(options: UserServiceOptions) {
  const { db, store, log } = options;
  await db.ping();
  await db.withSql((sql) => migrateUp(sql, (name) => log.info("applied migration", { migration: name })));
  const routes = userRoutes({
    prisma: db.prisma,
    cache: store,
    log,
    internalToken: options.internalToken,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
  });
  const server: RpcServer = await startRpcServer({
    host: options.host,
    port: options.port,
    routes,
    services: [UserService],
    interceptors: [errorInterceptor(log)],
    log: (message, fields) => log.info(message, fields),
    shutdownTimeoutMs: options.shutdownTimeoutMs,
  });
  // NOT_SERVING while the database can't be reached, so probes and load balancers route around it.
  const stopProbe = probeDependency({
    health: server.health,
    service: UserService.typeName,
    dependency: "database",
    check: () => db.ping(),
    log,
    intervalMs: options.healthProbeMs,
  });

  return {
    server,
    routes,
    async close() {
      stopProbe();
      await server.close();
    },
  };
}
