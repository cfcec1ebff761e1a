#!/usr/bin/env bun
// user-service: owns the users table; serves user.v1.UserService (gRPC, gRPC-Web, Connect).
import { configCommand, runCommands, serveCommand } from "../../lib/cli.ts";
import { tokenLifetimes } from "../../lib/config/config.ts";
import { storeFromEnv } from "../../lib/redis/index.ts";
import { openDatabase } from "../../lib/db/database.ts";
import { databaseOptions } from "../../lib/db/env.ts";
import { migrateCommand } from "../../lib/db/migrate-cli.ts";
import { createLogger } from "../../lib/log.ts";
import { onShutdown } from "../../lib/shutdown/shutdown.ts";
import { startTracing } from "../../lib/tracing/tracing.ts";
import { loadUserEnv } from "./env.ts";
import { startUserService } from "./service.ts";

const USAGE = `Usage: bun run user-service <command>

Commands:
  serve [--port 50052]           serve user.v1.UserService
  migrate up|down|status|fresh   manage the database schema (this service owns it)
  config check                   validate the environment as serve would, then exit (0, or 2 listing every problem)`;

const serve = serveCommand(USAGE, async (portFlag) => {
  const port = portFlag(50052);
  const env = loadUserEnv();
  const tracing = startTracing("user-service", env);
  const log = createLogger({ service: "user-service" });
  const db = await openDatabase(databaseOptions(env));
  const store = storeFromEnv(env);
  const service = await startUserService({
    db,
    store,
    log,
    host: env.SERVER_HOST,
    port,
    internalPort: env.USER_SERVICE_INTERNAL_PORT,
    metricsToken: env.METRICS_TOKEN,
    credentials: env.credentials,
    lifetimes: tokenLifetimes(env),
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
  console.log(
    `user-service listening on ${service.server.url}\n  internal Connect: ${service.server.internalUrl}\n  database: ${db.describe()}\n  redis: ${store.describe()}\n  tracing: ${tracing.describe()}\n  protocols: gRPC (h2c), gRPC-Web and Connect (HTTP/1.1 and h2c)`,
  );
  onShutdown(
    service.close,
    () => db.close(),
    () => store.close(),
    tracing.shutdown,
  );
});

await runCommands(USAGE, { serve, migrate: migrateCommand, config: configCommand(USAGE, () => loadUserEnv()) });
