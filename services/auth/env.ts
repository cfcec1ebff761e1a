import { join } from "node:path";
import { z } from "zod";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import {
  authRateLimitEnv,
  commonEnv,
  count,
  flag,
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
import { MAIL_REQUIRED_IN_PRODUCTION, mailEnv } from "../../lib/mail/env.ts";
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
  ...mailEnv,
  /** REQUIRE_VERIFIED_EMAIL makes a sign-in to an unverified address a 403 (problem type email-not-verified). */
  REQUIRE_VERIFIED_EMAIL: flag.default(false),
  PASSWORD_RESET_TTL_MINUTES: count.max(24 * 60, "must be at most a day").default(30),
  EMAIL_VERIFICATION_TTL_HOURS: count.max(30 * 24, "must be at most 30 days").default(48),
  MAIL_LIMIT_PER_EMAIL: count.default(3),
  MAIL_LIMIT_PER_ADDRESS: count.default(10),
  MAIL_LIMIT_WINDOW_SECONDS: count.default(3600),
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
      requiredInProduction: [
        "JWT_SECRET",
        ...credentialsRequiredInProduction([SELF, ...CALLERS]),
        "USER_SERVICE_URL",
        ...MAIL_REQUIRED_IN_PRODUCTION,
      ],
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
      mail: {
        perEmail: { max: parsed.MAIL_LIMIT_PER_EMAIL, windowSeconds: parsed.MAIL_LIMIT_WINDOW_SECONDS },
        perAddress: { max: parsed.MAIL_LIMIT_PER_ADDRESS, windowSeconds: parsed.MAIL_LIMIT_WINDOW_SECONDS },
      },
      prefixes: addressPrefixes(parsed),
    } satisfies LimitOptions,
    /** mail is how the account flows mail (service.ts MailOptions). */
    mail: {
      smtpUrl: parsed.SMTP_URL,
      from: parsed.MAIL_FROM,
      outboxDir: join(parsed.DATA_DIR, "outbox"),
      publicBaseUrl: parsed.PUBLIC_BASE_URL,
      requireVerifiedEmail: parsed.REQUIRE_VERIFIED_EMAIL,
      ttls: {
        password_reset: parsed.PASSWORD_RESET_TTL_MINUTES * 60,
        email_verification: parsed.EMAIL_VERIFICATION_TTL_HOURS * 3600,
        email_change: parsed.EMAIL_VERIFICATION_TTL_HOURS * 3600,
      },
    },
  };
}
