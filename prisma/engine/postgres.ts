// PostgreSQL for the Wasm schema engine: @prisma/adapter-pg 7.10.1 with its three gaps for migrations
// closed, plus the few server-level operations (probe, CREATE/DROP DATABASE) the engine leaves to us.
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

// pg and driver-adapter-utils are resolved from adapter-pg itself, so we patch and bind the very copies
// it uses (they are its dependencies, not ours).
const requireFromAdapter = createRequire(import.meta.resolve("@prisma/adapter-pg"));
const pg: typeof import("pg") = requireFromAdapter("pg");
const adapterUtils: typeof import("@prisma/driver-adapter-utils") = requireFromAdapter("@prisma/driver-adapter-utils");

// Gap 1: adapter-pg can't map PostgreSQL's internal one-byte `"char"` type (oid 18), which the catalog
// queries behind every schema description return (relkind, contype, …). Its values are text, so pg
// reports them as text before adapter-pg looks. This process only runs the engine, so patching is safe.
const CHAR_OID = 18;
const TEXT_OID = 25;
type FieldsSink = { addFields(fields: import("pg").FieldDef[]): void };
const resultProto = pg.Result.prototype as unknown as FieldsSink;
const addFields = resultProto.addFields;
resultProto.addFields = function (this: FieldsSink, fields) {
  for (const field of fields) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  addFields.call(this, fields);
};

/** withDatabase returns url pointing at another database on the same server. */
function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(database)}`;
  return next.toString();
}

/** databaseName is the database a URL names (PostgreSQL's default: the user name). */
export function databaseName(url: string): string {
  const parsed = new URL(url);
  return decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || "postgres";
}

/** runOn runs one statement on url with a short-lived connection. */
export async function runOn(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** createDatabase creates the database url names, connecting through the server's `postgres` database. */
export async function createDatabase(url: string): Promise<string> {
  const name = databaseName(url);
  await runOn(withDatabase(url, "postgres"), `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return name;
}

async function connect(url: string): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaPg({ connectionString: url }).connect();
  // Gap 2: adapter-pg's executeScript splits the script on every ";", even inside comments, strings and
  // function bodies, and runs the pieces one by one. The native engine sends a migration as one
  // simple-protocol query (one implicit transaction); a parameterless executeRaw does exactly that and
  // keeps adapter-pg's error mapping.
  adapter.executeScript = async (script) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

/**
 * createAdapterFactory connects the engine to url. Shadow databases go to shadowUrl when given, else to a
 * fresh database on the same server that is dropped when the engine lets go of it (or at cleanup()).
 */
export function createAdapterFactory(url: string, shadowUrl: string | undefined) {
  const shadows = new Set<string>();
  const dropShadow = async (name: string) => {
    shadows.delete(name);
    await runOn(url, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: () => connect(url),
    // Gap 3: adapter-pg's own connectToShadowDb creates the shadow database but connects with the
    // main URL, whose database name wins over the one it passes, so the migrations replay on the main
    // database. We connect to the shadow database by URL instead.
    async connectToShadowDb() {
      if (shadowUrl) return connect(shadowUrl);
      const name = `prisma_migrate_shadow_db_${crypto.randomUUID().replaceAll("-", "")}`;
      await runOn(url, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      shadows.add(name);
      const adapter = await connect(withDatabase(url, name));
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await dropShadow(name);
      };
      return adapter;
    },
  };
  return {
    factory: adapterUtils.bindMigrationAwareSqlAdapterFactory(factory),
    /** cleanup drops shadow databases the engine didn't dispose of (e.g. after an error). */
    cleanup: () => Promise.allSettled([...shadows].map(dropShadow)),
  };
}
