// Environment parsing shared by every binary: one zod schema per binary, parsed once at start;
// every missing or bad variable is reported together, then the process exits non-zero.
import { z } from "zod";

/** ConfigError lists every problem found in the environment, one per line, each naming its variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/**
 * parseEnv validates env against schema, throwing ConfigError with every problem at once.
 * Variables named in requiredInProduction are also required when NODE_ENV=production: there, a
 * missing database, Redis or secret is an error, never a silent development fallback.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  {
    requiredInProduction = [],
    checks = [],
  }: {
    requiredInProduction?: string[];
    /** checks look at several variables together (e.g. redisChecks); each returns its problems. */
    checks?: ((env: Record<string, string>) => string[])[];
  } = {},
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = schema.safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.map(String).join(".") || "environment"}: ${issue.message}`);
  if (cleaned.NODE_ENV === "production") {
    for (const name of requiredInProduction) {
      if (cleaned[name] === undefined) problems.push(`${name}: is required when NODE_ENV=production`);
    }
  }
  for (const check of checks) problems.push(...check(cleaned as Record<string, string>));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** postgresUrl accepts postgres:// and postgresql:// URLs with a host and no ?schema= (drivers reject it). */
export const postgresUrl = z
  .string()
  .refine((value) => URL.canParse(value), "not a URL (expected postgresql://user:password@host:5432/database)")
  .refine(
    (value) => !URL.canParse(value) || ["postgres:", "postgresql:"].includes(new URL(value).protocol),
    "must start with postgresql:// or postgres://",
  )
  .refine((value) => !URL.canParse(value) || new URL(value).hostname !== "", "has no host")
  .refine(
    (value) => !URL.canParse(value) || !new URL(value).searchParams.has("schema"),
    "remove ?schema=: set the search_path on the role instead",
  );

/** redisUrl accepts redis:// and rediss:// URLs. */
export const redisUrl = z
  .string()
  .refine((value) => URL.canParse(value) && ["redis:", "rediss:"].includes(new URL(value).protocol), "must be a redis:// or rediss:// URL");

/** port is a TCP port number given as text. */
export const port = z.coerce.number().int("must be a whole number").min(0).max(65535, "must be at most 65535");

/** boolean accepts true/false/1/0/yes/no. */
export const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"], "must be true or false")
  .transform((value) => ["true", "1", "yes"].includes(value));

/** commonEnv holds what every binary reads. */
export const commonEnv = {
  NODE_ENV: z.enum(["development", "production", "test"], "must be development, production or test").default("development"),
  DATA_DIR: z.string().default(".data"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], "must be debug, info, warn or error").default("info"),
};

/** isProduction tells whether NODE_ENV asks for production rules (no silent fallbacks). */
export const isProduction = (env: { NODE_ENV: string }) => env.NODE_ENV === "production";

/**
 * redisKeyPrefix goes before every key the store writes (REDIS_KEY_PREFIX, e.g. "myapp:"), so
 * deployments sharing one Redis keep their caches, rate limits and revocations apart. No glob or
 * space characters: `SCAN MATCH <prefix>*` then finds exactly one deployment's keys.
 */
export const redisKeyPrefix = z
  .string()
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9_.:-]*$/, "may hold only letters, digits and _ . : - (e.g. myapp:)")
  .default("");

/** hostPorts is a comma-separated list of host:port (an IPv6 address in brackets), e.g. "redis-0:6379,redis-1:6379". */
export const hostPorts = z.string().transform((value, ctx) => {
  const list = value.split(",").map((item) => item.trim());
  const parsed = list.map((item) => /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(item));
  if (list.length === 0 || parsed.some((match) => !match || Number(match[2]) < 1 || Number(match[2]) > 65535)) {
    ctx.addIssue({ code: "custom", message: "must be a comma-separated list of host:port (e.g. redis-0:6379,redis-1:6379)" });
    return z.NEVER;
  }
  return parsed.map((match) => ({ host: match![1]!.replace(/^\[|\]$/g, ""), port: Number(match![2]) }));
});

/**
 * redisEnv selects Redis: one node (REDIS_URL), a Redis Cluster (REDIS_CLUSTER_NODES, any of its
 * nodes as seeds) or a Sentinel-managed master (REDIS_SENTINELS + REDIS_SENTINEL_NAME); none means
 * the in-process store (development only). redisChecks enforces "at most one, one in production".
 */
export const redisEnv = {
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "may hold only letters, digits and _ . -")
    .optional(),
  /** REDIS_PASSWORD is the cluster nodes' or the Sentinel-managed master's password (REDIS_URL carries its own). */
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_KEY_PREFIX: redisKeyPrefix,
};

/** redisChecks: at most one of REDIS_URL / REDIS_CLUSTER_NODES / REDIS_SENTINELS, one of them in
 * production, a master name with sentinels, and passwords only where they mean something. */
export function redisChecks(env: Record<string, string>): string[] {
  const set = ["REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_SENTINELS"].filter((name) => env[name] !== undefined);
  const problems: string[] = [];
  if (set.length > 1)
    problems.push(`${set.slice(1).join(", ")}: set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS (${set[0]} is set)`);
  if (set.length === 0 && env.NODE_ENV === "production") {
    problems.push("REDIS_URL: is required when NODE_ENV=production (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME)");
  }
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined) {
    problems.push("REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master's name in the sentinels' configuration)");
  }
  if (env.REDIS_SENTINEL_NAME !== undefined && env.REDIS_SENTINELS === undefined)
    problems.push("REDIS_SENTINEL_NAME: only means something with REDIS_SENTINELS");
  if (env.REDIS_SENTINEL_PASSWORD !== undefined && env.REDIS_SENTINELS === undefined) {
    problems.push("REDIS_SENTINEL_PASSWORD: only means something with REDIS_SENTINELS");
  }
  if (env.REDIS_PASSWORD !== undefined && env.REDIS_URL !== undefined) {
    problems.push("REDIS_PASSWORD: put the password in REDIS_URL (redis://:password@host:6379) instead");
  }
  return problems;
}

/** serviceUrls is where a service is reached: an http(s) URL, or a comma-separated list of its
 * replicas' URLs (a hostname with several addresses is balanced over too, lib/rpc/balance.ts). */
export const serviceUrls = z
  .string()
  .refine(
    (value) => value.split(",").every((url) => URL.canParse(url.trim()) && ["http:", "https:"].includes(new URL(url.trim()).protocol)),
    "must be an http:// or https:// URL, or a comma-separated list of them",
  );

/** tokenLifetimeEnv is how long access and refresh tokens live, which revocation records must outlive. */
export const tokenLifetimeEnv = {
  JWT_EXPIRATION_HOURS: z.coerce
    .number()
    .positive("must be a positive number of hours")
    .max(24 * 365, "must be at most a year")
    .default(24),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().positive("must be a positive number of days").max(365, "must be at most 365").default(30),
};

/** tokenLifetimes turns tokenLifetimeEnv into seconds (lib/tokens/revocation.ts Lifetimes). */
export function tokenLifetimes(env: { JWT_EXPIRATION_HOURS: number; REFRESH_TOKEN_TTL_DAYS: number }) {
  return { accessSeconds: Math.max(1, Math.round(env.JWT_EXPIRATION_HOURS * 3600)), refreshSeconds: env.REFRESH_TOKEN_TTL_DAYS * 86_400 };
}

/** count is a positive whole number read from the environment. */
export const count = z.coerce.number("must be a number").int("must be a whole number").positive("must be positive");

/** authRateLimitEnv is the /auth limit both binaries apply: the gateway per route group, the auth
 * service per Login and per Register (whoever calls it). */
export const authRateLimitEnv = {
  RATE_LIMIT_AUTH_REQUESTS: count.default(10),
  RATE_LIMIT_AUTH_WINDOW_SECONDS: count.default(60),
};

/** shutdownEnv is how long a binary waits for in-flight requests after SIGTERM/SIGINT. */
export const shutdownEnv = {
  SHUTDOWN_TIMEOUT_SECONDS: count.default(10),
};

/** serverHostEnv is the address services and the gateway bind to. */
export const serverHostEnv = { SERVER_HOST: z.string().default("0.0.0.0") };
