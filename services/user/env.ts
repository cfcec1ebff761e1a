import { z } from "zod";
import { parseEnv, redisEnv, serverHostEnv, serviceTokenEnv, shutdownEnv, tokenLifetimeEnv } from "../../lib/config/config.ts";
import { databaseEnv } from "../../lib/db/env.ts";
import { devSecret } from "../../lib/config/secrets.ts";

export const userEnvSchema = z.object({
  ...databaseEnv,
  ...redisEnv,
  ...serviceTokenEnv,
  ...tokenLifetimeEnv,
  ...serverHostEnv,
  ...shutdownEnv,
});

export type UserEnv = z.output<typeof userEnvSchema> & { INTERNAL_SERVICE_TOKEN: string };

/** loadUserEnv reads the user service's configuration once, filling development-only secrets. */
export function loadUserEnv(env: Record<string, string | undefined> = process.env): UserEnv {
  const parsed = parseEnv(userEnvSchema, { requiredInProduction: ["DATABASE_URL", "REDIS_URL", "INTERNAL_SERVICE_TOKEN"] }, env);
  return { ...parsed, INTERNAL_SERVICE_TOKEN: parsed.INTERNAL_SERVICE_TOKEN ?? devSecret("INTERNAL_SERVICE_TOKEN", parsed.DATA_DIR) };
}
