import { z } from "zod";
import { commonEnv, parseEnv, redisEnv, serverHostEnv, serviceTokenEnv, shutdownEnv, tokenLifetimeEnv } from "../../lib/config/config.ts";
import { devSecret } from "../../lib/config/secrets.ts";
import { accessTokenEnv } from "../../lib/tokens/tokens.ts";

export const authEnvSchema = z.object({
  ...commonEnv,
  ...redisEnv,
  ...serviceTokenEnv,
  ...tokenLifetimeEnv,
  ...serverHostEnv,
  ...accessTokenEnv,
  ...shutdownEnv,
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().positive("must be a positive number of days").max(365, "must be at most 365").default(30),
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().min(0, "must not be negative").max(60, "must be at most 60").default(10),
  USER_SERVICE_URL: z
    .string()
    .refine((value) => URL.canParse(value) && ["http:", "https:"].includes(new URL(value).protocol), "must be an http:// or https:// URL")
    .default("http://127.0.0.1:50052"),
});

export type AuthEnv = z.output<typeof authEnvSchema> & { JWT_SECRET: string; INTERNAL_SERVICE_TOKEN: string };

/** loadAuthEnv reads the auth service's configuration once, filling development-only secrets. */
export function loadAuthEnv(env: Record<string, string | undefined> = process.env): AuthEnv {
  const parsed = parseEnv(
    authEnvSchema,
    { requiredInProduction: ["REDIS_URL", "JWT_SECRET", "INTERNAL_SERVICE_TOKEN", "USER_SERVICE_URL"] },
    env,
  );
  return {
    ...parsed,
    JWT_SECRET: parsed.JWT_SECRET ?? devSecret("JWT_SECRET", parsed.DATA_DIR),
    INTERNAL_SERVICE_TOKEN: parsed.INTERNAL_SERVICE_TOKEN ?? devSecret("INTERNAL_SERVICE_TOKEN", parsed.DATA_DIR),
  };
}
