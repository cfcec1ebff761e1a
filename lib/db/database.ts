// One database handle for both backends: PostgreSQL through @prisma/adapter-pg when DATABASE_URL
// is set, the embedded PGlite (real Postgres in WebAssembly) under DATA_DIR otherwise. Store code
// takes a `Db`, so the same functions run inside or outside `$transaction`, on either backend.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import postgres from "postgres";
import pg from "pg";
import { PrismaClient, type Prisma } from "../../gen/prisma/client.ts";
import { metrics, sampleOnScrape, seriesOf } from "../metrics/metrics.ts";
import { histogramSeries } from "../metrics/series.ts";
import { DatabaseUnavailableError } from "./errors.ts";
import type { SqlRunner } from "./sql.ts";
import { pgliteRunner, postgresRunner } from "./sql.ts";

/** Db is what store functions take: the client itself or the client inside a transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;

export type Database = {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** describe names the database for banners and errors, never with its password. */
  describe(): string;
  /** ping throws DatabaseUnavailableError unless a trivial query succeeds within the deadline. */
  ping(): Promise<void>;
  /** withSql lends a runner for multi-statement SQL (migrations) on the same database. */
  withSql<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  /** PostgreSQL URL; undefined selects the embedded PGlite. May be a transaction-mode pooler. */
  url?: string;
  /** directUrl reaches PostgreSQL itself, for migrations (withSql); url when unset. */
  directUrl?: string;
  /** poolSize bounds this process's connections to url (default 10). */
  poolSize?: number;
  /** Folder of the embedded database (PGlite), created when missing; "memory://" keeps it in memory. */
  pgliteDir: string;
  /** How long to wait for a connection before calling the database unavailable. */
  connectTimeoutMs?: number;
};

/** openDatabase connects to PostgreSQL or opens the embedded PGlite. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url
    ? openPostgres(options.url, options.directUrl ?? options.url, options.poolSize ?? 10, options.connectTimeoutMs ?? 5000)
    : openPglite(options.pgliteDir);
}

/** describePostgresUrl gives host:port/database of a PostgreSQL URL, without credentials. */
export function describePostgresUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
}

// How long a query may wait for its answer, a pooler's queue included (the RPC deadlines are shorter
// for most calls; this bounds the rest).
const QUERY_TIMEOUT_MS = 10_000;

// How long close() waits for running queries before it gives up on them.
const CLOSE_TIMEOUT_MS = 2000;

// Through a transaction-mode pooler (PgBouncer) a server connection is ours only for one transaction,
// so nothing here keeps session state on it: the adapter sends unnamed statements (no
// statementNameGenerator: named prepared statements would land on another server connection), no
// SET or advisory lock runs through Prisma, and migrations (advisory lock, postgres.js's prepared
// statements) use directUrl.
function openPostgres(url: string, directUrl: string, poolSize: number, connectTimeoutMs: number): Database {
  const where = describePostgresUrl(url);
  // Our own pool (the adapter ends it on $disconnect), so its counts can be sampled for metrics.
  // A query that gets no answer within query_timeout fails (a saturated pooler queues it): the call
  // answers Unavailable with Retry-After instead of hanging.
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    max: poolSize,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, { disposeExternalPool: true }),
    log: [
      { emit: "event", level: "query" },
      { emit: "event", level: "error" },
    ],
  });
  const stopSampling = instrument(prisma, pool);
  const ping = async () => {
    try {
      await withDeadline(prisma.$queryRawUnsafe("select 1"), connectTimeoutMs);
    } catch (error) {
      throw unavailable(where, error);
    }
  };
  return {
    kind: "postgres",
    prisma,
    describe: () => (directUrl === url ? `PostgreSQL ${where}` : `PostgreSQL ${where} (migrations: ${describePostgresUrl(directUrl)})`),
    ping,
    async withSql(fn) {
      const sql = postgres(directUrl, {
        max: 1,
        connect_timeout: Math.ceil(connectTimeoutMs / 1000),
        onnotice: () => {},
      });
      try {
        await sql`select 1`.catch((error: unknown) => {
          throw unavailable(where, error);
        });
        return await fn(postgresRunner(sql));
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
    async close() {
      stopSampling();
      // Called after the servers have drained: a query still running belongs to a call that was
      // given up on, and pg's pool.end() would wait for it forever (say, behind a lock).
      await withDeadline(prisma.$disconnect(), CLOSE_TIMEOUT_MS).catch((error: unknown) => {
        throw new Error(`closing PostgreSQL ${where}: abandoned queries still running after ${CLOSE_TIMEOUT_MS} ms`, { cause: error });
      });
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  if (!dir.startsWith("memory://")) mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create(dir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    kind: "pglite",
    prisma,
    describe: () => `embedded PGlite at ${dir}`,
    async ping() {
      if (pglite.closed) throw new DatabaseUnavailableError("the embedded database is closed");
      await pglite.query("select 1");
    },
    withSql: (fn) => fn(pgliteRunner(pglite)),
    async close() {
      await prisma.$disconnect();
      if (!pglite.closed) await pglite.close();
    },
  };
}

// The driver's own words (connection refused, unknown database, bad password) name the problem;
// none of them contains the URL's password.
function unavailable(where: string, error: unknown): DatabaseUnavailableError {
  const reason = (error as { code?: string })?.code?.startsWith("E")
    ? (error as { code: string }).code
    : error instanceof Error
      ? error.message
      : String(error);
  return new DatabaseUnavailableError(`DATABASE_URL: cannot reach PostgreSQL at ${where} (${reason})`, { cause: error });
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// Statement kinds for db_query_duration_seconds: the first keyword, from a closed set.
const OPERATIONS = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "WITH"]);

// Query latency and errors from Prisma's events, and the pool's counts at every scrape.
function instrument(prisma: PrismaClient, pool: pg.Pool): () => void {
  type Events = {
    $on(event: "query", listener: (event: { query: string; duration: number }) => void): void;
    $on(event: "error", listener: () => void): void;
  };
  const events = prisma as unknown as Events;
  const byOperation = seriesOf((operation) => histogramSeries(metrics.dbDuration, operation));
  events.$on("query", ({ query, duration }) => {
    const keyword = /^\s*([A-Za-z]+)/.exec(query)?.[1]?.toUpperCase() ?? "";
    const operation = OPERATIONS.has(keyword) ? keyword.toLowerCase() : "other";
    byOperation(operation).observe(duration / 1000);
  });
  events.$on("error", () => metrics.dbErrors.inc());
  return sampleOnScrape(() => {
    metrics.dbPool.set({ state: "total" }, pool.totalCount);
    metrics.dbPool.set({ state: "idle" }, pool.idleCount);
    metrics.dbPool.set({ state: "waiting" }, pool.waitingCount);
  });
}
