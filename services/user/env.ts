import { z } from "zod";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { parseEnv, port, redisChecks, redisEnv, serverHostEnv, shutdownEnv, tokenLifetimeEnv } from "../../lib/config/config.ts";
import { acceptedCredentials, credentialEnv, credentialsRequiredInProduction } from "../../lib/config/credentials.ts";
import { databaseEnv } from "../../lib/db/env.ts";
import { metricsEnv } from "../../lib/metrics/metrics.ts";
import { tracingEnv } from "../../lib/tracing/tracing.ts";
import { callersOf } from "../../lib/rpc/callers.ts";

export const userEnvSchema = z.object({
  ...databaseEnv,
  ...redisEnv,
  ...credentialEnv,
  ...tokenLifetimeEnv,
  ...serverHostEnv,
  ...shutdownEnv,
  ...metricsEnv,
  ...tracingEnv,
  /** USER_SERVICE_INTERNAL_PORT is the internal Connect listener the gateway and the auth service call (lib/rpc/connect-listener.ts). */
  USER_SERVICE_INTERNAL_PORT: port.default(50062),
});

const CALLERS = callersOf(UserService);

export type UserEnv = ReturnType<typeof loadUserEnv>;

/** loadUserEnv reads the user service's configuration once, filling development-only secrets. */
export function loadUserEnv(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    userEnvSchema,
    { requiredInProduction: ["DATABASE_URL", ...credentialsRequiredInProduction(CALLERS)], checks: [redisChecks] },
    env,
  );
  return { ...parsed, credentials: acceptedCredentials(parsed, CALLERS) };
}
