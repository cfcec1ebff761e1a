import { THREADS } from "./argon2-threads.ts";
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../lib/config/config.ts";
import { loadAuthEnv } from "./env.ts";

const SECRETS = {
  JWT_SECRET: "env-test-jwt-secret-0123456789abcdefghij",
  GATEWAY_TOKEN: "env-test-gateway-token-0123456789abcdef",
  AUTH_SERVICE_TOKEN: "env-test-auth-service-token-0123456789a",
  OPERATOR_TOKEN: "env-test-operator-token-0123456789abcde",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadAuthEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a configuration error");
}

test("defaults follow the reference: 24 h access tokens, 30-day refresh tokens, user service on :50052", () => {
  const env = loadAuthEnv(SECRETS);
  expect(env).toMatchObject({
    JWT_EXPIRATION_HOURS: 24,
    REFRESH_TOKEN_TTL_DAYS: 30,
    REFRESH_TOKEN_REUSE_GRACE_SECONDS: 10,
    USER_SERVICE_URL: "http://127.0.0.1:50052",
    JWT_ISSUER: "bun-api-starter",
    JWT_AUDIENCE: "bun-api-starter",
    SERVER_HOST: "0.0.0.0",
  });
  expect(env.REDIS_URL).toBeUndefined();
});

test("a short or example JWT_SECRET and bad numbers are refused, each named", () => {
  expect(problems({ ...SECRETS, JWT_SECRET: "short" })).toEqual(["JWT_SECRET: must be at least 32 characters"]);
  expect(problems({ ...SECRETS, JWT_SECRET: "your-secret-key-minimum-32-characters" })[0]).toStartWith("JWT_SECRET:");
  const found = problems({ ...SECRETS, REFRESH_TOKEN_TTL_DAYS: "0", JWT_EXPIRATION_HOURS: "soon", USER_SERVICE_URL: "ftp://x" });
  expect(found.map((p) => p.split(":")[0]).sort()).toEqual(["JWT_EXPIRATION_HOURS", "REFRESH_TOKEN_TTL_DAYS", "USER_SERVICE_URL"]);
});

test("outside production a missing secret gets a development value kept in DATA_DIR", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "auth-env-"));
  try {
    const env = loadAuthEnv({ DATA_DIR: dataDir });
    expect(env.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(loadAuthEnv({ DATA_DIR: dataDir }).JWT_SECRET).toBe(env.JWT_SECRET);
    expect(JSON.parse(readFileSync(join(dataDir, "dev-secrets.json"), "utf8")).JWT_SECRET).toBe(env.JWT_SECRET);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("PASSWORD_HASHING_THREADS bounds the hashing threads, never above the cores; unset, the cores decide", () => {
  expect(loadAuthEnv(SECRETS).passwords).toBeUndefined();
  expect(loadAuthEnv({ ...SECRETS, PASSWORD_HASHING_THREADS: "1" }).passwords).toEqual({ concurrency: 1 });
  expect(loadAuthEnv({ ...SECRETS, PASSWORD_HASHING_THREADS: "256" }).passwords).toEqual({ concurrency: THREADS });
  expect(problems({ ...SECRETS, PASSWORD_HASHING_THREADS: "0" })[0]).toStartWith("PASSWORD_HASHING_THREADS:");
  expect(problems({ ...SECRETS, PASSWORD_HASHING_THREADS: "two" })[0]).toStartWith("PASSWORD_HASHING_THREADS:");
});

test("mail: development defaults write the outbox under DATA_DIR; production requires SMTP_URL and PUBLIC_BASE_URL", () => {
  const env = loadAuthEnv({ ...SECRETS, DATA_DIR: "/tmp/app" });
  expect(env.mail).toMatchObject({
    smtpUrl: undefined,
    outboxDir: "/tmp/app/outbox",
    publicBaseUrl: "http://localhost:3000",
    requireVerifiedEmail: false,
    ttls: { password_reset: 1800, email_verification: 172_800, email_change: 172_800 },
  });
  const production = { ...SECRETS, NODE_ENV: "production", REDIS_URL: "redis://127.0.0.1:6379", USER_SERVICE_URL: "http://u:50062" };
  expect(problems(production)).toEqual([
    "SMTP_URL: is required when NODE_ENV=production",
    "PUBLIC_BASE_URL: is required when NODE_ENV=production",
  ]);
  const ok = loadAuthEnv({ ...production, SMTP_URL: "smtps://u:p@smtp.example.com:465", PUBLIC_BASE_URL: "https://app.example.com/" });
  expect(ok.mail).toMatchObject({ smtpUrl: "smtps://u:p@smtp.example.com:465", publicBaseUrl: "https://app.example.com" });
});

test("mail: a bad SMTP_URL, PUBLIC_BASE_URL or REQUIRE_VERIFIED_EMAIL is refused, each named", () => {
  const found = problems({
    ...SECRETS,
    SMTP_URL: "http://smtp.example.com",
    PUBLIC_BASE_URL: "https://app.example.com/?next=1",
    REQUIRE_VERIFIED_EMAIL: "maybe",
    PASSWORD_RESET_TTL_MINUTES: "0",
  });
  expect(found.map((p) => p.split(":")[0]).sort()).toEqual([
    "PASSWORD_RESET_TTL_MINUTES",
    "PUBLIC_BASE_URL",
    "REQUIRE_VERIFIED_EMAIL",
    "SMTP_URL",
  ]);
  expect(loadAuthEnv({ ...SECRETS, REQUIRE_VERIFIED_EMAIL: "true" }).mail.requireVerifiedEmail).toBe(true);
});
