import { z } from "zod";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { commonEnv, parseEnv, port, redisEnv, serverHostEnv, shutdownEnv, tokenLifetimeEnv } from "../../lib/config/config.ts";
import { acceptedCredentials, callerSecrets, credentialEnv, credentialsRequiredInProduction } from "../../lib/config/credentials.ts";
import { devSecret } from "../../lib/config/secrets.ts";
import { callersOf } from "../../lib/rpc/callers.ts";
import { accessTokenEnv } from "../../lib/tokens/tokens.ts";

export const authEnvSchema = z.object({
  ...commonEnv,
  ...redisEnv,
  ...credentialEnv,
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
    { requiredInProduction: ["REDIS_URL", "JWT_SECRET", ...credentialsRequiredInProduction([SELF, ...CALLERS]), "USER_SERVICE_URL"] },
    env,
  );
  return {
    ...parsed,
    JWT_SECRET: parsed.JWT_SECRET ?? devSecret("JWT_SECRET", parsed.DATA_DIR),
    /** credential is what this service presents to the user service. */
    credential: callerSecrets(parsed, [SELF, ...CALLERS])[SELF],
    credentials: acceptedCredentials(parsed, CALLERS),
  };
}
