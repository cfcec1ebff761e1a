// The callers' secrets from the environment (lib/rpc/callers.ts says who may call what):
// GATEWAY_TOKEN, AUTH_SERVICE_TOKEN and OPERATOR_TOKEN, each with a *_PREVIOUS value that servers
// also accept while a secret is being rotated. Development values are generated into DATA_DIR.
import { z } from "zod";
import type { Caller, CallerCredentials } from "../rpc/callers.ts";
import { ConfigError } from "./config.ts";
import { devSecret } from "./secrets.ts";

/** CREDENTIAL_VARIABLES names each caller's secret. */
export const CREDENTIAL_VARIABLES = {
  gateway: "GATEWAY_TOKEN",
  "auth-service": "AUTH_SERVICE_TOKEN",
  operator: "OPERATOR_TOKEN",
} as const satisfies Record<Caller, string>;

const secret = z.string().min(32, "must be at least 32 characters");
const replaced = z
  .never({
    error: "was replaced by one secret per caller: GATEWAY_TOKEN, AUTH_SERVICE_TOKEN and OPERATOR_TOKEN (README: Service credentials)",
  })
  .optional();

/** credentialEnv holds every caller's secret and its previous value; a binary requires the ones it uses. */
export const credentialEnv = {
  GATEWAY_TOKEN: secret.optional(),
  GATEWAY_TOKEN_PREVIOUS: secret.optional(),
  AUTH_SERVICE_TOKEN: secret.optional(),
  AUTH_SERVICE_TOKEN_PREVIOUS: secret.optional(),
  OPERATOR_TOKEN: secret.optional(),
  OPERATOR_TOKEN_PREVIOUS: secret.optional(),
  INTERNAL_SERVICE_TOKEN: replaced,
};

type CredentialEnv = { DATA_DIR: string } & { [K in keyof typeof credentialEnv]?: string };

/** credentialsRequiredInProduction lists the variables a binary using these callers must have in production. */
export const credentialsRequiredInProduction = (callers: readonly Caller[]) => callers.map((caller) => CREDENTIAL_VARIABLES[caller]);

/**
 * callerSecrets returns the current secret of each caller, generating development values where
 * unset (production requires them, see credentialsRequiredInProduction). Two callers sharing one
 * secret would make either one the other, so that is a configuration error.
 */
export function callerSecrets(env: CredentialEnv, callers: readonly Caller[]): Record<Caller, string> {
  const secrets = Object.fromEntries(
    callers.map((caller) => {
      const name = CREDENTIAL_VARIABLES[caller];
      return [caller, env[name] ?? devSecret(name, env.DATA_DIR)];
    }),
  ) as Record<Caller, string>;
  const seen = new Map<string, Caller>();
  for (const caller of callers) {
    const other = seen.get(secrets[caller]);
    if (other) throw new ConfigError([`${CREDENTIAL_VARIABLES[caller]}: must differ from ${CREDENTIAL_VARIABLES[other]}`]);
    seen.set(secrets[caller], caller);
  }
  return secrets;
}

/** acceptedCredentials is what a server accepts from each caller: the current secret and, during a rotation, the previous one. */
export function acceptedCredentials(env: CredentialEnv, callers: readonly Caller[]): CallerCredentials {
  const current = callerSecrets(env, callers);
  return Object.fromEntries(
    callers.map((caller) => {
      const previous = env[`${CREDENTIAL_VARIABLES[caller]}_PREVIOUS`];
      return [caller, previous ? [current[caller], previous] : [current[caller]]];
    }),
  );
}
