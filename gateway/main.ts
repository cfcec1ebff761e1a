#!/usr/bin/env bun
// gateway: the REST API (Hono) in front of the auth and user services, reached over gRPC.
import { storeFromEnv } from "../lib/redis/index.ts";
import { configCommand, runCommands, serveCommand } from "../lib/cli.ts";
import { createLogger } from "../lib/log.ts";
import { sendCredential } from "../lib/rpc/callers.ts";
import { createRpcTransport } from "../lib/rpc/client.ts";
import { onShutdown } from "../lib/shutdown/shutdown.ts";
import { startTracing } from "../lib/tracing/tracing.ts";
import { createAccessTokens } from "../lib/tokens/tokens.ts";
import { serviceClients } from "./clients.ts";
import { loadGatewayEnv, rateLimits } from "./env.ts";
import { serveGateway } from "./server.ts";
import pkg from "../package.json" with { type: "json" };

const USAGE = `Usage: bun run gateway <command>

Commands:
  serve [--port 3000]   serve the REST API, /swagger-ui and /health (services at AUTH_SERVICE_URL, USER_SERVICE_URL)
  config check          validate the environment as serve would, then exit (0, or 2 listing every problem)`;

const serve = serveCommand(USAGE, async (portFlag) => {
  const env = loadGatewayEnv();
  const tracing = startTracing("gateway", env);
  // The default port is configuration, so it is read after the flags are checked.
  const port = portFlag(env.SERVER_PORT);
  const log = createLogger({ service: "gateway" });
  const store = storeFromEnv(env);
  const tokens = createAccessTokens({
    secret: env.JWT_SECRET,
    expirationHours: env.JWT_EXPIRATION_HOURS,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
  });
  const rpc = { timeoutMs: env.SERVICE_TIMEOUT_MS, interceptors: [sendCredential(env.credential)] };
  const clients = serviceClients({
    auth: createRpcTransport(env.AUTH_SERVICE_URL, rpc),
    user: createRpcTransport(env.USER_SERVICE_URL, rpc),
  });
  const gateway = serveGateway(
    {
      ...clients,
      store,
      log,
      verifyAccessToken: tokens.verify,
      limits: rateLimits(env),
      trustedProxies: env.TRUSTED_PROXIES,
      corsOrigins: env.CORS_ORIGINS,
      metricsToken: env.METRICS_TOKEN,
      version: pkg.version,
    },
    { host: env.SERVER_HOST, port, shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS },
  );
  console.log(
    `gateway listening on ${gateway.url}\n  auth service: ${env.AUTH_SERVICE_URL}\n  user service: ${env.USER_SERVICE_URL}\n  redis: ${store.describe()}\n  tracing: ${tracing.describe()}\n  docs: ${gateway.url}/swagger-ui`,
  );
  onShutdown(gateway.close, () => store.close(), tracing.shutdown);
});

await runCommands(USAGE, { serve, config: configCommand(USAGE, () => loadGatewayEnv()) });
