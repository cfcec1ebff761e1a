// `migrate up|down|status|fresh`, shared by `combined` and `user-service` (which owns the database).
import { z } from "zod";
import { parseEnv } from "../config/config.ts";
import { UsageError } from "../cli.ts";
import { openDatabase, type Database } from "./database.ts";
import { databaseEnv, databaseOptions } from "./env.ts";
import { migrateDown, migrateFresh, migrateUp, migrationStatus } from "./migrate.ts";
import type { SqlRunner } from "./sql.ts";

export const MIGRATE_USAGE = `migrate <command>

Commands:
  up       apply pending migrations, printing each name
  down     roll back the last applied migration (its down.sql)
  status   list applied and pending migrations
  fresh    drop everything in the database and re-apply all migrations

Uses DIRECT_DATABASE_URL when set (PostgreSQL itself, when DATABASE_URL is a pooler such as
PgBouncer in transaction mode), else DATABASE_URL, else the embedded database under DATA_DIR
(default .data).`;

/** migrateCommand runs one migrate subcommand and prints what it did. */
export async function migrateCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (!action || args.includes("--help") || args.includes("-h")) {
    if (!action) throw new UsageError("migrate needs a command: up, down, status or fresh");
    console.log(MIGRATE_USAGE);
    return;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const run = commands[action];
  if (!run) throw new UsageError(`unknown migrate command "${action}": use up, down, status or fresh`);
  const env = parseEnv(z.object(databaseEnv), { requiredInProduction: ["DATABASE_URL"] });
  const db = await openDatabase(databaseOptions(env));
  try {
    console.log(`Database: ${db.describe()}`);
    await db.withSql(async (sql) => {
      await run(sql, db);
      await printSummary(sql);
    });
  } finally {
    await db.close();
  }
}

const commands: Record<string, (sql: SqlRunner, db: Database) => Promise<void>> = {
  async up(sql) {
    const applied = await migrateUp(sql, (name) => console.log(`  applied  ${name}`));
    if (applied.length === 0) console.log("Nothing to apply.");
  },
  async down(sql) {
    const name = await migrateDown(sql);
    console.log(name ? `  rolled back  ${name}` : "Nothing to roll back.");
  },
  async status(sql) {
    const status = await migrationStatus(sql);
    for (const m of status.applied) console.log(`  applied  ${m.name}  (${m.finishedAt.toISOString()})`);
    for (const name of status.pending) console.log(`  pending  ${name}`);
    for (const name of status.modified) console.log(`  warning: ${name} was edited after it was applied`);
    for (const name of status.unknown) console.log(`  warning: ${name} is applied but not in this build`);
  },
  async fresh(sql) {
    console.log("  dropped everything");
    await migrateFresh(sql, (name) => console.log(`  applied  ${name}`));
  },
};

async function printSummary(sql: SqlRunner): Promise<void> {
  const { applied, pending } = await migrationStatus(sql);
  console.log(`${applied.length} applied, ${pending.length} pending.`);
}
