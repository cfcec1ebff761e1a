import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDatabase, type TestDatabase } from "../../test/databases.ts";
import type { Database } from "./database.ts";
import { checksum, migrateDown, migrateFresh, migrateUp, migrationStatus } from "./migrate.ts";
import { migrations } from "../../gen/migrations.ts";
import { MigrationError } from "./errors.ts";

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase("migrate");
  db = await testDb.open();
});
afterAll(async () => {
  await db.close();
  await testDb.drop();
});

const names = migrations.map((m) => m.name);

describe("migrations", () => {
  test("up applies every pending migration in order and records Prisma's checksums", async () => {
    const seen: string[] = [];
    await db.withSql(async (sql) => {
      expect((await migrationStatus(sql)).pending).toEqual(names);
      expect(await migrateUp(sql, (name) => seen.push(name))).toEqual(names);
      expect(seen).toEqual(names);
      const rows = await sql.query<{ migration_name: string; checksum: string }>(
        `SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows).toEqual(migrations.map((m) => ({ migration_name: m.name, checksum: checksum(m.up) })));
      expect(await migrateUp(sql)).toEqual([]);
    });
  });

  test("down reverses only the last migration and its bookkeeping; up re-applies it", async () => {
    await db.withSql(async (sql) => {
      expect(await migrateDown(sql)).toBe(names.at(-1)!);
      const status = await migrationStatus(sql);
      expect(status.applied.map((m) => m.name)).toEqual(names.slice(0, -1));
      expect(status.pending).toEqual(names.slice(-1));
      const columns = await sql.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND table_schema = current_schema()`,
      );
      // The last migration added email_verified_at; the one before it, deleted_at, stays.
      expect(columns.map((c) => c.column_name)).not.toContain("email_verified_at");
      expect(columns.map((c) => c.column_name)).toContain("deleted_at");
      expect(await migrateUp(sql)).toEqual(names.slice(-1));
    });
  });

  test("down past the first migration leaves nothing and then answers null", async () => {
    await db.withSql(async (sql) => {
      for (const name of [...names].reverse()) expect(await migrateDown(sql)).toBe(name);
      expect(await migrateDown(sql)).toBeNull();
      const tables = await sql.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(["_prisma_migrations"]);
      await migrateUp(sql);
    });
  });

  test("fresh drops data and re-applies everything", async () => {
    await db.prisma.user.create({ data: { email: "fresh@example.com", passwordHash: "h", name: "F" } });
    await db.withSql(async (sql) => expect(await migrateFresh(sql)).toEqual(names));
    expect(await db.prisma.user.count()).toBe(0);
  });

  test("a failing migration names itself and leaves no bookkeeping row", async () => {
    const broken = [
      ...migrations,
      { name: "29990101000000_broken", up: "CREATE TABLE ok_then (id int);\nSELECT no_such_column FROM users;", down: "" },
    ];
    await db.withSql(async (sql) => {
      const error = await migrateUp(sql, () => {}, broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).message).toContain("29990101000000_broken");
      const status = await migrationStatus(sql, broken);
      expect(status.pending).toEqual(["29990101000000_broken"]);
      const tables = await sql.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'ok_then'`);
      expect(tables).toEqual([]);
    });
  });
});

describe("concurrent runs", () => {
  test("two migrate up at once on one database: the advisory lock lets one apply everything, the other nothing", async () => {
    if (db.kind !== "postgres") return console.log("[migrate] PGlite has one connection: concurrent runs need TEST_DATABASE_URL");
    const race = await createTestDatabase("migrate_race");
    const raced = await race.open();
    try {
      // withSql opens a connection of its own per call: two sessions racing for the lock.
      const [a, b] = await Promise.all([raced.withSql((sql) => migrateUp(sql)), raced.withSql((sql) => migrateUp(sql))]);
      expect([a, b].map((applied) => applied.length).sort()).toEqual([0, names.length]);
      await raced.withSql(async (sql) => {
        const rows = await sql.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`);
        expect(rows.map((row) => row.migration_name)).toEqual(names);
        expect((await migrationStatus(sql)).pending).toEqual([]);
      });
    } finally {
      await raced.close();
      await race.drop();
    }
  });
});

describe("email uniqueness", () => {
  test("two active users can't share an email in any letter case; a soft-deleted one frees it", async () => {
    const users = db.prisma.user;
    const first = await users.create({ data: { email: "case@example.com", passwordHash: "h", name: "A" } });
    const duplicate = users.create({ data: { email: "CASE@example.com", passwordHash: "h", name: "B" } });
    await expect(Promise.resolve(duplicate)).rejects.toThrow();
    await users.update({ where: { id: first.id }, data: { deletedAt: new Date() } });
    const again = await users.create({ data: { email: "Case@Example.com", passwordHash: "h", name: "C" } });
    expect(again.id).not.toBe(first.id);
  });
});
