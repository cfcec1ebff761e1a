#!/usr/bin/env bun
// auth-service: registers, signs in and out, issues and checks tokens; serves auth.v1.AuthService.
import { createClient } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { storeFromEnv } from "../../lib/redis/index.ts";
import { configCommand, runCommands, serveCommand } from "../../lib/cli.ts";
import { createLogger } from "../../lib/log.ts";
import { sendCredential } from "../../lib/rpc/callers.ts";
import { createRpcTransport } from "../../lib/rpc/client.ts";
import { onShutdown } from "../../lib/shutdown/shutdown.ts";
import { startTracing } from "../../lib/tracing/tracing.ts";
import { loadAuthEnv } from "./env.ts";
import { startAuthService } from "./service.ts";

const USAGE = `Usage: bun run auth-service <command>

Commands:
  serve [--port 50051]   serve auth.v1.AuthService (calls the user service at USER_SERVICE_URL)
  config check           validate the environment as serve would, then exit (0, or 2 listing every problem)`;

const serve = serveCommand(USAGE, async (portFlag) => {
  const port = portFlag(50051);
  const env = loadAuthEnv();
  const tracing = startTracing("auth-service", env);
  const log = createLogger({ service: "auth-service" });
  const store = storeFromEnv(env);
  const service = await startAuthService({
    store,
    log,
    users: createClient(UserService, createRpcTransport(env.USER_SERVICE_URL, { interceptors: [sendCredential(env.credential)] })),
    credentials: env.credentials,
    jwt: { secret: env.JWT_SECRET, expirationHours: env.JWT_EXPIRATION_HOURS, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
    refreshReuseGraceSeconds: env.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    limits: env.limits,
    passwords: env.passwords,
    mail: env.mail,
    host: env.SERVER_HOST,
    port,
    internalPort: env.AUTH_SERVICE_INTERNAL_PORT,
    metricsToken: env.METRICS_TOKEN,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
  const redis =
    store.kind === "redis"
      ? store.describe()
      : `${store.describe()} (development only: revocations by the user service and gateway aren't seen; set REDIS_URL)`;
  console.log(
    `auth-service listening on ${service.server.url}\n  internal Connect: ${service.server.internalUrl}\n  user service: ${env.USER_SERVICE_URL}\n  redis: ${redis}\n  mail: ${service.mail()}\n  tracing: ${tracing.describe()}\n  protocols: gRPC (h2c), gRPC-Web and Connect (HTTP/1.1 and h2c)`,
  );
  onShutdown(service.close, () => store.close(), tracing.shutdown);
});

await runCommands(USAGE, { serve, config: configCommand(USAGE, () => loadAuthEnv()) });
