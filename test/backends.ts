// Which real servers the test run talks to. The preload (test/preload.ts) probes the standard local
// addresses (overridable by TEST_DATABASE_URL / TEST_REDIS_URL) once; suites read the verdict here
// and fall back to the embedded backends (PGlite, the in-process store) when a server is absent.
import postgres from "postgres";
import { connect } from "node:net";

export const DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379";

/** testDatabaseUrl is the admin URL of a reachable PostgreSQL, or undefined for PGlite. */
export function testDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || undefined;
}

/** testRedisUrl is the URL of a reachable Redis, or undefined for the in-process store. */
export function testRedisUrl(): string | undefined {
  return process.env.TEST_REDIS_URL || undefined;
}

/** probePostgres answers whether `select 1` succeeds within a second. */
export async function probePostgres(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** probeRedis answers whether a PING gets PONG within a second. */
export function probeRedis(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}
