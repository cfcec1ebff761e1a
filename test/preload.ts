// Runs once before the test files: decides which backends this run uses and says so.
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL, probePostgres, probeRedis } from "./backends.ts";

const pgUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
const [pgUp, redisUp] = await Promise.all([probePostgres(pgUrl), probeRedis(redisUrl)]);

process.env.TEST_DATABASE_URL = pgUp ? pgUrl : "";
process.env.TEST_REDIS_URL = redisUp ? redisUrl : "";
// Tests must never pick up a developer's own services by accident.
delete process.env.DATABASE_URL;
delete process.env.REDIS_URL;

const host = (url: string) => new URL(url).host;
console.error(
  `[test backends] database: ${pgUp ? `PostgreSQL at ${host(pgUrl)}` : "embedded PGlite (no PostgreSQL answered)"}` +
    ` · redis: ${redisUp ? `Redis at ${host(redisUrl)}` : "in-process store (no Redis answered)"}`,
);
