import { expect, test } from "bun:test";
import { z } from "zod";
import { ConfigError, parseEnv, redisChecks, redisEnv } from "./config.ts";

const parseRedisEnv = (env: Record<string, string>) => parseEnv(z.object(redisEnv), {}, env);

function problems(env: Record<string, string>): string[] {
  try {
    parseRedisEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a configuration error");
}

test("REDIS_KEY_PREFIX defaults to empty, so keys are the reference's own (user:, rate_limit:, …)", () => {
  expect(parseRedisEnv({}).REDIS_KEY_PREFIX).toBe("");
  expect(parseRedisEnv({ REDIS_KEY_PREFIX: "" }).REDIS_KEY_PREFIX).toBe("");
});

test("REDIS_KEY_PREFIX takes letters, digits and _ . : - up to 64 characters", () => {
  for (const prefix of ["myapp:", "shop-eu.prod:v2_", "a".repeat(64)]) {
    expect(parseRedisEnv({ REDIS_KEY_PREFIX: prefix }).REDIS_KEY_PREFIX).toBe(prefix);
  }
});

test("REDIS_KEY_PREFIX with a glob character, a space or over 64 characters is refused, named", () => {
  for (const prefix of ["app*", "my app:", "app[1]:", "ключ:", "a\nb"]) {
    expect(problems({ REDIS_KEY_PREFIX: prefix })).toEqual(["REDIS_KEY_PREFIX: may hold only letters, digits and _ . : - (e.g. myapp:)"]);
  }
  expect(problems({ REDIS_KEY_PREFIX: "a".repeat(65) })).toEqual(["REDIS_KEY_PREFIX: must be at most 64 characters"]);
});

const redisProblems = (env: Record<string, string>) => {
  try {
    parseEnv(z.object(redisEnv), { checks: [redisChecks] }, env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

test("REDIS_CLUSTER_NODES and REDIS_SENTINELS parse host:port lists (IPv6 in brackets)", () => {
  const env = parseEnv(z.object(redisEnv), { checks: [redisChecks] }, { REDIS_CLUSTER_NODES: "redis-0:6379, 127.0.0.2:7000,[::1]:7001" });
  expect(env.REDIS_CLUSTER_NODES).toEqual([
    { host: "redis-0", port: 6379 },
    { host: "127.0.0.2", port: 7000 },
    { host: "::1", port: 7001 },
  ]);
  for (const bad of ["redis-0", "redis-0:", "redis-0:70000", "a:1,,b:2", "redis://redis-0:6379"]) {
    expect(redisProblems({ REDIS_CLUSTER_NODES: bad })).toEqual([
      "REDIS_CLUSTER_NODES: must be a comma-separated list of host:port (e.g. redis-0:6379,redis-1:6379)",
    ]);
  }
});

test("only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS; production requires one", () => {
  expect(redisProblems({ REDIS_URL: "redis://a:6379", REDIS_CLUSTER_NODES: "b:6379" })).toEqual([
    "REDIS_CLUSTER_NODES: set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (REDIS_URL is set)",
  ]);
  expect(redisProblems({ NODE_ENV: "production" })).toEqual([
    "REDIS_URL: is required when NODE_ENV=production (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME)",
  ]);
  const targets: Record<string, string>[] = [
    { REDIS_URL: "redis://a:6379" },
    { REDIS_CLUSTER_NODES: "a:7000" },
    { REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "m" },
  ];
  for (const env of targets) {
    expect(redisProblems({ NODE_ENV: "production", ...env })).toEqual([]);
  }
});

test("sentinels need a master name; names and passwords only where they mean something", () => {
  expect(redisProblems({ REDIS_SENTINELS: "s:26379" })).toEqual([
    "REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master's name in the sentinels' configuration)",
  ]);
  expect(
    redisProblems({ REDIS_URL: "redis://a:6379", REDIS_PASSWORD: "p", REDIS_SENTINEL_NAME: "m", REDIS_SENTINEL_PASSWORD: "q" }),
  ).toEqual([
    "REDIS_SENTINEL_NAME: only means something with REDIS_SENTINELS",
    "REDIS_SENTINEL_PASSWORD: only means something with REDIS_SENTINELS",
    "REDIS_PASSWORD: put the password in REDIS_URL (redis://:password@host:6379) instead",
  ]);
});
