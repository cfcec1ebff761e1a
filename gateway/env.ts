import { z } from "zod";
import { addressPrefixes, addressPrefixEnv } from "../lib/client-address.ts";
import {
  authRateLimitEnv,
  commonEnv,
  count,
  parseEnv,
  port,
  redisChecks,
  redisEnv,
  serverHostEnv,
  serviceUrls,
  shutdownEnv,
  tokenLifetimeEnv,
} from "../lib/config/config.ts";
import { callerSecrets, credentialEnv } from "../lib/config/credentials.ts";
import { devSecret } from "../lib/config/secrets.ts";
import { metricsEnv } from "../lib/metrics/metrics.ts";
import { tracingEnv } from "../lib/tracing/tracing.ts";
import { accessTokenEnv } from "../lib/tokens/tokens.ts";
import { parseTrustedProxies } from "./middleware/client-ip.ts";

const list = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const gatewayEnvSchema = z.object({
  ...commonEnv,
  ...redisEnv,
  ...serverHostEnv,
  ...tokenLifetimeEnv,
  SERVER_PORT: port.default(3000),
  ...accessTokenEnv,
  GATEWAY_TOKEN: credentialEnv.GATEWAY_TOKEN,
  ...metricsEnv,
  ...tracingEnv,
  AUTH_SERVICE_URL: serviceUrls.default("http://127.0.0.1:50051"),
  USER_SERVICE_URL: serviceUrls.default("http://127.0.0.1:50052"),
  SERVICE_TIMEOUT_MS: count.default(5000),
  RATE_LIMIT_REQUESTS: count.default(100),
  RATE_LIMIT_WINDOW_SECONDS: count.default(60),
  ...authRateLimitEnv,
  ...addressPrefixEnv,
  TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseTrustedProxies(value);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          message: `must be comma-separated IP addresses or CIDR ranges (${error instanceof Error ? error.message : error})`,
        });
        return z.NEVER;
      }
    }),
  CORS_ORIGINS: list,
  ...shutdownEnv,
});

export type GatewayConfig = ReturnType<typeof loadGatewayEnv>;

/** loadGatewayEnv reads the gateway's configuration once, filling development-only secrets. */
export function loadGatewayEnv(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(gatewayEnvSchema, { requiredInProduction: ["JWT_SECRET", "GATEWAY_TOKEN"], checks: [redisChecks] }, env);
  return {
    ...parsed,
    JWT_SECRET: parsed.JWT_SECRET ?? devSecret("JWT_SECRET", parsed.DATA_DIR),
    /** credential is what the gateway presents to the services. */
    credential: callerSecrets(parsed, ["gateway"]).gateway,
  };
}

/** rateLimits turns the RATE_LIMIT_* variables into the two policies. */
export function rateLimits(config: z.output<typeof gatewayEnvSchema>) {
  const prefixes = addressPrefixes(config);
  return {
    auth: { name: "auth", max: config.RATE_LIMIT_AUTH_REQUESTS, windowSeconds: config.RATE_LIMIT_AUTH_WINDOW_SECONDS, prefixes },
    users: { name: "users", max: config.RATE_LIMIT_REQUESTS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS, prefixes },
  };
}
