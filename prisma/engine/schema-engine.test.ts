// Runs the real Prisma CLI (`bunx prisma …`) through prisma.config.ts and our Wasm schema engine against a
// throwaway PostgreSQL database, in a scratch copy of the project so migrations can be added freely.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { testDatabaseUrl } from "../../test/backends.ts";

const adminUrl = testDatabaseUrl();
if (!adminUrl) console.warn("[schema-engine.test] skipped: no PostgreSQL answered (TEST_DATABASE_URL is empty)");

const root = join(import.meta.dir, "..", "..");
const name = `prisma_engine_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
let dir = "";
let url = "";
let sql: postgres.Sql;

/** prisma runs the CLI in the scratch project; `databaseUrl: null` runs it without DATABASE_URL. */
async function prisma(args: string[], databaseUrl: string | null = url) {
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: databaseUrl ?? undefined };
  delete env.PRISMA_SCHEMA_ENGINE_BINARY; // the config must find the engine by itself
  const child = Bun.spawn(["bunx", "prisma", ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, output: stdout + stderr };
}

const migrationDirs = () =>
  readdirSync(join(dir, "prisma", "migrations"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

const applied = async () =>
  (await sql`SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1`).map((row) => ({
    name: String(row.migration_name),
    checksum: String(row.checksum),
  }));

// Each test runs the Prisma CLI one or more times (3–4 s each on this machine, more under load).
setDefaultTimeout(30_000);

describe.skipIf(!adminUrl)("prisma CLI on the Wasm schema engine", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "prisma-engine-"));
    cpSync(join(root, "prisma.config.ts"), join(dir, "prisma.config.ts"));
    cpSync(join(root, "prisma", "schema.prisma"), join(dir, "prisma", "schema.prisma"));
    cpSync(join(root, "prisma", "migrations"), join(dir, "prisma", "migrations"), { recursive: true });
    symlinkSync(join(root, "prisma", "engine"), join(dir, "prisma", "engine"));
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    const parsed = new URL(adminUrl!);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
    sql = postgres(url, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end();
    const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("migrate deploy creates the database, applies every migration and records SHA-256 checksums", async () => {
    const { code, output } = await prisma(["migrate", "deploy"]);
    expect(output).toContain(`PostgreSQL database ${name} created`);
    expect(output).toContain("All migrations have been successfully applied");
    expect(code).toBe(0);
    const expected = migrationDirs().map((migration) => ({
      name: migration,
      checksum: createHash("sha256")
        .update(readFileSync(join(dir, "prisma", "migrations", migration, "migration.sql")))
        .digest("hex"),
    }));
    expect(await applied()).toEqual(expected);
  });

  test("migrate status reports the database up to date", async () => {
    const { code, output } = await prisma(["migrate", "status"]);
    expect(output).toContain("Database schema is up to date!");
    expect(code).toBe(0);
  });

  test("migrate dev --create-only sees no drift: the partial unique email index is left alone", async () => {
    const before = migrationDirs();
    const { code, output } = await prisma(["migrate", "dev", "--create-only", "--name", "probe"]);
    expect(code).toBe(0);
    const created = migrationDirs().filter((migration) => !before.includes(migration));
    expect(created).toHaveLength(1);
    const script = readFileSync(join(dir, "prisma", "migrations", created[0]!, "migration.sql"), "utf8");
    expect(script.trim()).toBe("-- This is an empty migration.");
    expect(output).not.toContain("drift");
    rmSync(join(dir, "prisma", "migrations", created[0]!), { recursive: true });
  });

  test("migrate dev creates and applies a migration, replaying history on a separate shadow database", async () => {
    const schemaPath = join(dir, "prisma", "schema.prisma");
    const schema = readFileSync(schemaPath, "utf8").replace(/^(\s*deletedAt\s.*)$/m, "$1\n  nickname String?");
    writeFileSync(schemaPath, schema);
    const { code, output } = await prisma(["migrate", "dev", "--name", "add_nickname"]);
    expect(output).toContain("Your database is now in sync with your schema.");
    expect(code).toBe(0);
    const created = migrationDirs().find((migration) => migration.endsWith("_add_nickname"))!;
    expect(readFileSync(join(dir, "prisma", "migrations", created, "migration.sql"), "utf8")).toContain(`ADD COLUMN     "nickname" TEXT`);
    // Had the history replayed on the main database, `CREATE TYPE "Role"` would have failed there.
    expect((await applied()).map((row) => row.name)).toEqual(migrationDirs());
    const [column] = await sql`SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'`;
    expect(column).toBeDefined();
    const shadows = await sql`SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'`;
    expect(shadows).toHaveLength(0);
  });

  test("migrate diff prints nothing to do between the migrations and the schema", async () => {
    const { code, output } = await prisma([
      "migrate",
      "diff",
      "--from-migrations",
      "prisma/migrations",
      "--to-schema",
      "prisma/schema.prisma",
      "--script",
    ]);
    expect(output).toContain("-- This is an empty migration.");
    expect(code).toBe(0);
  });

  test("migrate reset --force empties the database and re-applies every migration", async () => {
    await sql`INSERT INTO users (id, email, password_hash, name, updated_at)
              VALUES (gen_random_uuid(), 'a@example.com', 'x', 'A', now())`;
    const { code, output } = await prisma(["migrate", "reset", "--force"]);
    expect(output).toContain("Database reset successful");
    expect(code).toBe(0);
    expect(await sql`SELECT * FROM users`).toHaveLength(0);
    expect((await applied()).map((row) => row.name)).toEqual(migrationDirs());
    const [index] = await sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'users_email_active_key'`;
    expect(String(index?.indexdef)).toContain("WHERE (deleted_at IS NULL)");
  });

  test("commands that need a database name DATABASE_URL when it is unset; generate runs without it", async () => {
    const status = await prisma(["migrate", "status"], null);
    expect(status.output).toContain("DATABASE_URL is not set");
    expect(status.code).not.toBe(0);
    const generate = await prisma(["generate"], null);
    expect(generate.output).toContain("Generated Prisma Client");
    expect(generate.code).toBe(0);
  });
});
