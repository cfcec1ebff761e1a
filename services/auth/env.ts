import { z } from "zod";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
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
} from "../../lib/config/config.ts";
import { acceptedCredentials, callerSecrets, credentialEnv, credentialsRequiredInProduction } from "../../lib/config/credentials.ts";
import { devSecret } from "../../lib/config/secrets.ts";
import { metricsEnv } from "../../lib/metrics/metrics.ts";
import { tracingEnv } from "../../lib/tracing/tracing.ts";
import { callersOf } from "../../lib/rpc/callers.ts";
import { accessTokenEnv } from "../../lib/tokens/tokens.ts";
import { addressPrefixEnv, addressPrefixes } from "../../lib/client-address.ts";
import { THREADS } from "./argon2-threads.ts";
import type { LimitOptions } from "./limits.ts";

export const authEnvSchema = z.object({
  ...commonEnv,
  ...redisEnv,
  ...credentialEnv,
  ...tokenLifetimeEnv,
  ...serverHostEnv,
  ...accessTokenEnv,
  ...shutdownEnv,
  ...metricsEnv,
  ...tracingEnv,
  ...addressPrefixEnv,
  ...authRateLimitEnv,
  LOGIN_ATTEMPTS_PER_ACCOUNT: count.default(5),
  LOGIN_ACCOUNT_WINDOW_SECONDS: count.default(900),
  /** PASSWORD_HASHING_THREADS caps the Argon2id threads (19 MiB each while hashing); default: the cores the process sees. */
  PASSWORD_HASHING_THREADS: count.max(256, "must be at most 256").optional(),
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().min(0, "must not be negative").max(60, "must be at most 60").default(10),
  USER_SERVICE_URL: serviceUrls.default("http://127.0.0.1:50052"),
  /** AUTH_SERVICE_INTERNAL_PORT is the internal Connect listener the gateway calls (lib/rpc/connect-listener.ts). */
  AUTH_SERVICE_INTERNAL_PORT: port.default(50061),
});

// Who may call this service (besides AuthService's public methods), and who it is when it calls the user service.
const CALLERS = callersOf(AuthService);
const SELF = "auth-service";

export type AuthEnv = ReturnType<typeof loadAuthEnv>;

/** loadAuthEnv reads the auth service's configuration once, filling development-only secrets. */
export function loadAuthEnv(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    authEnvSchema,
    {
      requiredInProduction: ["JWT_SECRET", ...credentialsRequiredInProduction([SELF, ...CALLERS]), "USER_SERVICE_URL"],
      checks: [redisChecks],
    },
    env,
  );
  return {
    ...parsed,
    JWT_SECRET: parsed.JWT_SECRET ?? devSecret("JWT_SECRET", parsed.DATA_DIR),
    /** credential is what this service presents to the user service. */
    credential: callerSecrets(parsed, [SELF, ...CALLERS])[SELF],
    credentials: acceptedCredentials(parsed, CALLERS),
    /** passwords bounds the hashing threads when PASSWORD_HASHING_THREADS is set (a container's CPU limit, not the node's cores). */
    passwords:
      parsed.PASSWORD_HASHING_THREADS === undefined ? undefined : { concurrency: Math.min(parsed.PASSWORD_HASHING_THREADS, THREADS) },
    limits: {
      perAddress: { max: parsed.RATE_LIMIT_AUTH_REQUESTS, windowSeconds: parsed.RATE_LIMIT_AUTH_WINDOW_SECONDS },
      perAccount: { max: parsed.LOGIN_ATTEMPTS_PER_ACCOUNT, windowSeconds: parsed.LOGIN_ACCOUNT_WINDOW_SECONDS },
      prefixes: addressPrefixes(parsed),
    } satisfies LimitOptions,
  };
}
