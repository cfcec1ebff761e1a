// The run's PostgreSQL and Redis: a throwaway database (dropped at the end) and a Redis database of
// its own (14, unless BENCH_REDIS_URL names one), so the binaries' unprefixed keys — the
// rate-limit counters of 127.0.0.1 above all — never count against other processes on this
// machine. Without them the binaries fall back to PGlite and the in-process store, and the table says so.
import postgres from "postgres";
import { probePostgres, probeRedis } from "../test/backends.ts";

export type BenchBackends = { env: Record<string, string>; description: string; drop(): Promise<void> };

export async function createBenchBackends(): Promise<BenchBackends> {
  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
  const redisBase = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
  const [pgUp, redisUp] = await Promise.all([probePostgres(admin), probeRedis(redisBase)]);
  const env: Record<string, string> = {};
  const described: string[] = [];
  let drop = async () => {};

  if (pgUp) {
    const name = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const sql = postgres(admin, { max: 1, onnotice: () => {} });
    await sql.unsafe(`CREATE DATABASE "${name}"`);
    await sql.end();
    const url = new URL(admin);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    described.push(`PostgreSQL ${url.host} (throwaway database)`);
    drop = async () => {
      const sql = postgres(admin, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await sql.end();
    };
  } else {
    described.push("embedded PGlite (no PostgreSQL answered)");
  }

  if (redisUp) {
    const url = new URL(redisBase);
    if (!process.env.BENCH_REDIS_URL && (url.pathname === "" || url.pathname === "/")) url.pathname = "/14";
    env.REDIS_URL = url.toString();
    described.push(`Redis ${url.host}${url.pathname}`);
  } else {
    described.push("in-process store (no Redis answered)");
  }
  return { env, description: described.join(", "), drop };
}
