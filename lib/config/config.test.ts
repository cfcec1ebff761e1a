import { expect, test } from "bun:test";
import { z } from "zod";
import { ConfigError, parseEnv, redisEnv } from "./config.ts";

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
