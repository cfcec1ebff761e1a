// The run's PostgreSQL and Redis: a throwaway database and a key prefix of its own
// (REDIS_KEY_PREFIX=bench:<run>:), both removed at the end, so the binaries' keys — the
// rate-limit counters of 127.0.0.1 above all — never meet other processes' on this machine.
// Without them the binaries fall back to PGlite and the in-process store, and the table says so.
import { createStore } from "../lib/redis/index.ts";
import { deletePrefix } from "../lib/redis/delete-prefix.ts";
import postgres from "postgres";
import { probePostgres, probeRedis } from "../test/backends.ts";

export type BenchBackends = { env: Record<string, string>; description: string; drop(): Promise<void> };

export async function createBenchBackends(): Promise<BenchBackends> {
  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
  const redisBase = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
  const [pgUp, redisUp] = await Promise.all([probePostgres(admin), probeRedis(redisBase)]);
  const env: Record<string, string> = {};
  const described: string[] = [];
  const run = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const drops: (() => Promise<void>)[] = [];

  if (pgUp) {
    const name = `bench_${run}`;
    const sql = postgres(admin, { max: 1, onnotice: () => {} });
    await sql.unsafe(`CREATE DATABASE "${name}"`);
    await sql.end();
    const url = new URL(admin);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    described.push(`PostgreSQL ${url.host} (throwaway database)`);
    drops.push(async () => {
      const sql = postgres(admin, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await sql.end();
    });
  } else {
    described.push("embedded PGlite (no PostgreSQL answered)");
  }

  if (redisUp) {
    const prefix = `bench:${run}:`;
    env.REDIS_URL = redisBase;
    env.REDIS_KEY_PREFIX = prefix;
    described.push(`Redis ${new URL(redisBase).host} (keys under ${prefix})`);
    drops.push(async () => {
      const store = createStore({ url: redisBase, onError: () => {} });
      await deletePrefix(store, prefix).catch(() => {}); // best effort: the keys expire on their own
      await store.close();
    });
  } else {
    described.push("in-process store (no Redis answered)");
  }
  return { env, description: described.join(", "), drop: async () => void (await Promise.all(drops.map((drop) => drop()))) };
}
