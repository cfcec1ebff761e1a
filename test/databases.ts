// Throwaway databases for tests: a fresh PostgreSQL database per suite when a server answers
// (see test/preload.ts), an in-memory PGlite otherwise. Both start empty and unmigrated.
import postgres from "postgres";
import { openDatabase, type Database } from "../lib/db/database.ts";
import { testDatabaseUrl } from "./backends.ts";

export type TestDatabase = {
  /** The PostgreSQL URL of the throwaway database, or undefined on PGlite. */
  url: string | undefined;
  open(): Promise<Database>;
  drop(): Promise<void>;
};

/** createTestDatabase makes an empty database that drop() removes. */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const admin = testDatabaseUrl();
  if (!admin) return { url: undefined, open: () => openDatabase({ pgliteDir: "memory://" }), drop: async () => {} };
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE "${name}"`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: () => openDatabase({ url: url.toString(), pgliteDir: "memory://" }),
    async drop() {
      const sql = postgres(admin, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await sql.end();
    },
  };
}
