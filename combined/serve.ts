// `combined serve`: the gateway, auth and user services in one process. The gateway reaches the
// services in-process (no network hop); the services still listen on their ports, so grpc-js,
// grpcurl and buf curl work exactly as in production.
import { createClient } from "@connectrpc/connect";
import { z } from "zod";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { authEnvSchema, loadAuthEnv } from "../services/auth/env.ts";
import { startAuthService } from "../services/auth/service.ts";
import { storeFromEnv } from "../lib/redis/index.ts";
import { parseFlags, portFlag } from "../lib/cli.ts";
import { parseEnv, redisChecks, tokenLifetimes } from "../lib/config/config.ts";
import { MAIL_REQUIRED_IN_PRODUCTION } from "../lib/mail/env.ts";
import { CREDENTIAL_VARIABLES } from "../lib/config/credentials.ts";
import { createAccessTokens } from "../lib/tokens/tokens.ts";
import { openDatabase } from "../lib/db/database.ts";
import { databaseOptions } from "../lib/db/env.ts";
import { createLogger } from "../lib/log.ts";
import { onShutdown } from "../lib/shutdown/shutdown.ts";
import { startTracing } from "../lib/tracing/tracing.ts";
import { loadUserEnv, userEnvSchema } from "../services/user/env.ts";
import { startUserService } from "../services/user/service.ts";
import { serviceClients } from "../gateway/clients.ts";
import { gatewayEnvSchema, loadGatewayEnv, rateLimits } from "../gateway/env.ts";
import { serveGateway } from "../gateway/server.ts";
import pkg from "../package.json" with { type: "json" };

/** loadCombinedEnv reads the three parts' configuration (serve and `config check`). */
export function loadCombinedEnv() {
  // Validate the union first, so every problem of every part is reported at once.
  const { SERVICE_HOST } = parseEnv(
    z.object({ ...userEnvSchema.shape, ...authEnvSchema.shape, ...gatewayEnvSchema.shape, SERVICE_HOST: z.string().default("127.0.0.1") }),
    {
      requiredInProduction: ["DATABASE_URL", "JWT_SECRET", ...Object.values(CREDENTIAL_VARIABLES), ...MAIL_REQUIRED_IN_PRODUCTION],
      checks: [redisChecks],
    },
  );
  const userEnv = loadUserEnv();
  // The auth binary needs USER_SERVICE_URL in production; here the user service is in-process, so
  // the variable means nothing and the union check above rightly doesn't require it.
  const authEnv = loadAuthEnv({ ...process.env, USER_SERVICE_URL: process.env.USER_SERVICE_URL || "http://in-process.invalid" });
  return { SERVICE_HOST, userEnv, authEnv, gatewayEnv: loadGatewayEnv() };
}

/** serve starts all three in one process and prints the banner. */
export async function serve(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    "gateway-port": { type: "string" },
    "auth-port": { type: "string" },
    "user-port": { type: "string" },
  });
  if (values.help) return console.log("Usage: bun run combined serve [--gateway-port 3000] [--auth-port 50051] [--user-port 50052]");
  const { SERVICE_HOST, userEnv, authEnv, gatewayEnv } = loadCombinedEnv();
  const ports = {
    gateway: portFlag(values["gateway-port"], "--gateway-port", gatewayEnv.SERVER_PORT),
    auth: portFlag(values["auth-port"], "--auth-port", 50051),
    user: portFlag(values["user-port"], "--user-port", 50052),
  };
  const tracing = startTracing("combined", gatewayEnv);
  const log = createLogger({ service: "combined" });
  const db = await openDatabase(databaseOptions(userEnv));
  const store = storeFromEnv(userEnv);
  const closers: (() => Promise<void>)[] = [];
  onShutdown(async () => {
    for (const close of closers.reverse()) await close();
    await tracing.shutdown();
  });

  const user = await startUserService({
    db,
    store,
    log: log.child({ component: "user-service" }),
    // The service ports are for grpcurl and buf curl on this machine unless SERVICE_HOST says otherwise.
    host: SERVICE_HOST,
    port: ports.user,
    credentials: userEnv.credentials,
    lifetimes: tokenLifetimes(userEnv),
    shutdownTimeoutMs: gatewayEnv.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
  closers.push(
    () => db.close(),
    () => store.close(),
    user.close,
  );
  const auth = await startAuthService({
    store,
    log: log.child({ component: "auth-service" }),
    users: createClient(UserService, user.inProcess("auth-service")),
    credentials: authEnv.credentials,
    jwt: {
      secret: authEnv.JWT_SECRET,
      expirationHours: authEnv.JWT_EXPIRATION_HOURS,
      issuer: authEnv.JWT_ISSUER,
      audience: authEnv.JWT_AUDIENCE,
    },
    refreshTokenTtlDays: authEnv.REFRESH_TOKEN_TTL_DAYS,
    refreshReuseGraceSeconds: authEnv.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    limits: authEnv.limits,
    passwords: authEnv.passwords,
    mail: authEnv.mail,
    host: SERVICE_HOST,
    port: ports.auth,
    shutdownTimeoutMs: gatewayEnv.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
  closers.push(auth.close);
  const gateway = serveGateway(
    {
      ...serviceClients({
        auth: auth.inProcess("gateway"),
        user: user.inProcess("gateway"),
      }),
      store,
      log: log.child({ component: "gateway" }),
      verifyAccessToken: createAccessTokens({
        secret: gatewayEnv.JWT_SECRET,
        expirationHours: gatewayEnv.JWT_EXPIRATION_HOURS,
        issuer: gatewayEnv.JWT_ISSUER,
        audience: gatewayEnv.JWT_AUDIENCE,
      }).verify,
      limits: rateLimits(gatewayEnv),
      trustedProxies: gatewayEnv.TRUSTED_PROXIES,
      corsOrigins: gatewayEnv.CORS_ORIGINS,
      metricsToken: gatewayEnv.METRICS_TOKEN,
      version: pkg.version,
    },
    { host: gatewayEnv.SERVER_HOST, port: ports.gateway, shutdownTimeoutSeconds: gatewayEnv.SHUTDOWN_TIMEOUT_SECONDS },
  );
  closers.push(gateway.close);

  console.log(`bun-api-starter ${pkg.version} · combined mode (${userEnv.NODE_ENV}: gateway, auth and user services in one process)
  gateway       ${gateway.url}
  docs          ${gateway.url}/swagger-ui
  auth service  ${auth.server.url}  (gRPC, gRPC-Web, Connect)
  user service  ${user.server.url}  (gRPC, gRPC-Web, Connect)
  operator      authorization: Bearer $OPERATOR_TOKEN${process.env.OPERATOR_TOKEN ? "" : ` (development value in ${userEnv.DATA_DIR}/dev-secrets.json)`}
  database      ${db.describe()}${db.kind === "pglite" ? "  · set DATABASE_URL for PostgreSQL" : ""}
  redis         ${store.describe()}${store.kind === "memory" ? "  · set REDIS_URL for Redis" : ""}
  mail          ${auth.mail()}
  tracing       ${tracing.describe()}`);
}
