import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, commonEnv, parseEnv } from "./config.ts";
import { acceptedCredentials, callerSecrets, credentialEnv, credentialsRequiredInProduction } from "./credentials.ts";

const schema = z.object({ ...commonEnv, ...credentialEnv });
const GATEWAY = "gateway-secret-0123456789abcdef0123456";
const AUTH = "auth-service-secret-0123456789abcdef012";

const problemsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

test("production requires the secret of every caller a binary uses", () => {
  const required = credentialsRequiredInProduction(["gateway", "operator"]);
  expect(required).toEqual(["GATEWAY_TOKEN", "OPERATOR_TOKEN"]);
  expect(problemsOf(() => parseEnv(schema, { requiredInProduction: required }, { NODE_ENV: "production" }))).toEqual([
    "GATEWAY_TOKEN: is required when NODE_ENV=production",
    "OPERATOR_TOKEN: is required when NODE_ENV=production",
  ]);
});

test("a short secret, and the retired INTERNAL_SERVICE_TOKEN, are refused by name", () => {
  const problems = problemsOf(() => parseEnv(schema, {}, { GATEWAY_TOKEN: "short", INTERNAL_SERVICE_TOKEN: "x".repeat(40) }));
  expect(problems).toContain("GATEWAY_TOKEN: must be at least 32 characters");
  expect(problems.find((p) => p.startsWith("INTERNAL_SERVICE_TOKEN:"))).toContain("GATEWAY_TOKEN, AUTH_SERVICE_TOKEN and OPERATOR_TOKEN");
});

test("two callers may not share a secret", () => {
  expect(
    problemsOf(() => callerSecrets({ DATA_DIR: ".", GATEWAY_TOKEN: GATEWAY, AUTH_SERVICE_TOKEN: GATEWAY }, ["gateway", "auth-service"])),
  ).toEqual(["AUTH_SERVICE_TOKEN: must differ from GATEWAY_TOKEN"]);
});

test("a server accepts the current secret and, during a rotation, the previous one", () => {
  const accepted = acceptedCredentials(
    { DATA_DIR: ".", GATEWAY_TOKEN: GATEWAY, GATEWAY_TOKEN_PREVIOUS: `old-${GATEWAY}`, AUTH_SERVICE_TOKEN: AUTH },
    ["gateway", "auth-service"],
  );
  expect(accepted).toEqual({ gateway: [GATEWAY, `old-${GATEWAY}`], "auth-service": [AUTH] });
});

test("outside production, missing secrets are generated once, distinct, and kept in DATA_DIR", () => {
  const dir = mkdtempSync(join(tmpdir(), "credentials-"));
  try {
    const first = callerSecrets({ DATA_DIR: dir }, ["gateway", "auth-service", "operator"]);
    expect(new Set(Object.values(first)).size).toBe(3);
    expect(callerSecrets({ DATA_DIR: dir }, ["gateway", "auth-service", "operator"])).toEqual(first);
    expect(JSON.parse(readFileSync(join(dir, "dev-secrets.json"), "utf8"))).toMatchObject({
      GATEWAY_TOKEN: first.gateway,
      OPERATOR_TOKEN: first.operator,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
