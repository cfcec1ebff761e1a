// The migration runner behind `migrate up|down|status|fresh`. Bookkeeping is Prisma's own
// `_prisma_migrations` table with Prisma's checksums (SHA-256 hex of migration.sql), so
// `bunx prisma migrate status` and this runner agree whichever applied a migration. Unlike Prisma,
// each migration and its bookkeeping row commit together: a failure leaves no half-recorded row.
import { createHash, randomUUID } from "node:crypto";
import { migrations as bundled } from "../../gen/migrations.ts";
import { MigrationError } from "./errors.ts";
import type { SqlRunner } from "./sql.ts";

export type Migration = { name: string; up: string; down: string };

export type MigrationStatus = {
  applied: { name: string; finishedAt: Date }[];
  pending: string[];
  /** Applied migrations whose migration.sql changed since. */
  modified: string[];
  /** Applied migrations this build doesn't know (applied by a newer build). */
  unknown: string[];
};

// The same advisory lock id Prisma Migrate takes, so the two never run at the same time.
const LOCK_ID = 72707369;

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

type Row = { migration_name: string; checksum: string; finished_at: Date };

/** checksum is Prisma's: the SHA-256 hex of the migration.sql bytes. */
export function checksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}

/** migrationStatus lists applied and pending migrations. */
export async function migrationStatus(sql: SqlRunner, all: readonly Migration[] = bundled): Promise<MigrationStatus> {
  const rows = await appliedRows(sql);
  const known = new Map(all.map((m) => [m.name, m]));
  const appliedNames = new Set(rows.map((r) => r.migration_name));
  return {
    applied: rows.map((r) => ({ name: r.migration_name, finishedAt: r.finished_at })),
    pending: all.filter((m) => !appliedNames.has(m.name)).map((m) => m.name),
    modified: rows
      .filter((r) => known.has(r.migration_name) && checksum(known.get(r.migration_name)!.up) !== r.checksum)
      .map((r) => r.migration_name),
    unknown: rows.filter((r) => !known.has(r.migration_name)).map((r) => r.migration_name),
  };
}

/** migrateUp applies every pending migration in order, calling onApplied after each commit. */
export async function migrateUp(
  sql: SqlRunner,
  onApplied: (name: string) => void = () => {},
  all: readonly Migration[] = bundled,
): Promise<string[]> {
  return locked(sql, async () => {
    const { pending } = await migrationStatus(sql, all);
    for (const name of pending) {
      const migration = all.find((m) => m.name === name)!;
      await run(sql, name, async (tx) => {
        await tx.exec(migration.up);
        await tx.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), checksum(migration.up), name],
        );
      });
      onApplied(name);
    }
    return pending;
  });
}

/** migrateDown reverses the last applied migration with its down.sql; null when none is applied. */
export async function migrateDown(sql: SqlRunner, all: readonly Migration[] = bundled): Promise<string | null> {
  return locked(sql, async () => {
    const rows = await appliedRows(sql);
    const last = rows.at(-1);
    if (!last) return null;
    const migration = all.find((m) => m.name === last.migration_name);
    if (!migration) throw new MigrationError(last.migration_name, "it is not in this build, so it has no down.sql here");
    await run(sql, migration.name, async (tx) => {
      await tx.exec(migration.down);
      await tx.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = $1`, [migration.name]);
    });
    return migration.name;
  });
}

/** migrateFresh drops every object in the current schema, then applies all migrations. */
export async function migrateFresh(
  sql: SqlRunner,
  onApplied: (name: string) => void = () => {},
  all: readonly Migration[] = bundled,
): Promise<string[]> {
  await locked(sql, () =>
    sql.exec(`DO $$ DECLARE s text := current_schema(); BEGIN
      EXECUTE format('DROP SCHEMA %I CASCADE', s);
      EXECUTE format('CREATE SCHEMA %I', s);
    END $$`),
  );
  return migrateUp(sql, onApplied, all);
}

async function appliedRows(sql: SqlRunner): Promise<Row[]> {
  await sql.exec(BOOKKEEPING);
  return sql.query<Row>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
     WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
}

async function run(sql: SqlRunner, name: string, fn: (tx: SqlRunner) => Promise<void>): Promise<void> {
  try {
    await sql.transaction(fn);
  } catch (error) {
    throw new MigrationError(name, error instanceof Error ? error.message : String(error), { cause: error });
  }
}

async function locked<T>(sql: SqlRunner, fn: () => Promise<T>): Promise<T> {
  await sql.query(`SELECT pg_advisory_lock(${LOCK_ID})`);
  try {
    return await fn();
  } finally {
    await sql.query(`SELECT pg_advisory_unlock(${LOCK_ID})`);
  }
}
