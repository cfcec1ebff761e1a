// startUserService wires the user service onto its RPC server; used by the user-service binary
// and by `combined`, which shares the database and store and also calls the routes in-process.
import type { Store } from "../../lib/redis/types.ts";
import type { Database } from "../../lib/db/database.ts";
import { migrateUp } from "../../lib/db/migrate.ts";
import type { Logger } from "../../lib/log.ts";
import { authorizeCallers, type Caller, type CallerCredentials } from "../../lib/rpc/callers.ts";
import { rpcAccessLog } from "../../lib/rpc/access-log.ts";
import { errorInterceptor } from "../../lib/rpc/errors.ts";
import { inProcessTransport } from "../../lib/rpc/in-process.ts";
import { probeDependency } from "../../lib/rpc/probe.ts";
import { metricsResponse } from "../../lib/metrics/metrics.ts";
import { startRpcServer, type RpcServer } from "../../lib/rpc/server.ts";
import { createRevocations, type Lifetimes } from "../../lib/tokens/revocation.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { userRoutes } from "./user.rpc.ts";

export type UserServiceOptions = {
  db: Database;
  store: Store;
  log: Logger;
  host: string;
  port: number;
  /** internalPort also serves Connect on a Bun.serve port for the other binaries (lib/rpc/connect-listener.ts). */
  internalPort?: number;
  /** metricsToken, when set, is the bearer token GET /metrics on the internal port requires (METRICS_TOKEN). */
  metricsToken?: string;
  /** credentials are the secrets each caller may present (lib/rpc/callers.ts decides what it may call). */
  credentials: CallerCredentials;
  /** lifetimes are how long tokens live: revocation marks are kept as long (lib/config/config.ts tokenLifetimes). */
  lifetimes: Lifetimes;
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
  const routes = userRoutes({ prisma: db.prisma, cache: store, log, revocations: createRevocations(store, options.lifetimes) });
  const authorize = authorizeCallers(options.credentials);
  const server: RpcServer = await startRpcServer({
    host: options.host,
    port: options.port,
    internalPort: options.internalPort,
    pages: { "/metrics": (request) => metricsResponse(request, options.metricsToken) },
    routes,
    services: [UserService],
    interceptors: [rpcAccessLog(log), errorInterceptor(log), authorize],
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
    /** inProcess is a transport for a caller in this process (combined mode, the CLI): same checks, no network. */
    inProcess: (caller: Caller) => inProcessTransport(routes, { caller, interceptors: [authorize], health: server.health, log }),
    async close() {
      stopProbe();
      await server.close();
    },
  };
}
