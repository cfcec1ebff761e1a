// startUserService wires the user service onto its RPC server; used by the user-service binary
// and by `combined`, which shares the database and store and also calls the routes in-process.
import type { Store } from "../../lib/redis/types.ts";
import type { Database } from "../../lib/db/database.ts";
import { migrateUp } from "../../lib/db/migrate.ts";
import { migrateRedisKeys } from "../../lib/redis/key-migrations.ts";
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
  /** keyMigrationRetryMs is how soon a Redis key migration that met an unavailable Redis runs again; default 10 s. */
  keyMigrationRetryMs?: number;
};

/**
 * migrateKeysOrRetry runs the Redis key migrations (lib/redis/key-migrations.ts) before the service
 * serves. With Redis unavailable the service starts anyway — the gateway fails closed meanwhile,
 * so no token goes unchecked — and the migration runs again every retryMs until it completes;
 * the answer stops those retries.
 */
async function migrateKeysOrRetry(store: Store, log: Logger, retryMs: number): Promise<() => void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const attempt = async () => {
    try {
      await migrateRedisKeys(store, log);
    } catch (error) {
      log.warn("Redis key migration postponed: Redis unavailable", {
        error: error instanceof Error ? error.message : String(error),
        retryMs,
      });
      if (!stopped) timer = setTimeout(attempt, retryMs);
      timer?.unref();
    }
  };
  await attempt();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** startUserService applies pending migrations (SQL, then Redis keys), then serves UserService with
 * health and reflection. */
export async function startUserService(options: UserServiceOptions) {
  const { db, store, log } = options;
  await db.ping();
  await db.withSql((sql) => migrateUp(sql, (name) => log.info("applied migration", { migration: name })));
  const stopKeyMigration = await migrateKeysOrRetry(store, log, options.keyMigrationRetryMs ?? 10_000);
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
      stopKeyMigration();
      stopProbe();
      await server.close();
    },
  };
}
