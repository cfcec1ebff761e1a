// A tiny common surface over postgres.js and PGlite for what Prisma's client can't do: run a file
// of many statements (PostgreSQL's simple query protocol) inside a transaction.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { ParameterOrJSON, Sql, TransactionSql } from "postgres";

export type SqlRunner = {
  /** query runs one parameterized statement and returns its rows. */
  query<T extends object>(text: string, params?: unknown[]): Promise<T[]>;
  /** exec runs a script of statements without parameters. */
  exec(text: string): Promise<void>;
  /** transaction runs fn atomically: all of it or none of it. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
};

type PostgresJs = Sql | TransactionSql;

/** postgresRunner adapts a postgres.js connection. */
export function postgresRunner(sql: PostgresJs): SqlRunner {
  return {
    query: async <T extends object>(text: string, params: unknown[] = []) =>
      (await sql.unsafe(text, params as ParameterOrJSON<never>[])) as unknown as T[],
    exec: async (text) => {
      await sql.unsafe(text);
    },
    transaction: async <T>(fn: (tx: SqlRunner) => Promise<T>) => {
      if (!("begin" in sql)) return fn(postgresRunner(sql));
      return (await sql.begin((tx) => fn(postgresRunner(tx)))) as T;
    },
  };
}

/** pgliteRunner adapts an embedded PGlite instance. */
export function pgliteRunner(db: PGlite | Transaction): SqlRunner {
  return {
    query: async <T extends object>(text: string, params: unknown[] = []) => (await db.query<T>(text, params)).rows,
    exec: async (text) => {
      await db.exec(text);
    },
    transaction: async <T>(fn: (tx: SqlRunner) => Promise<T>) => {
      if (!("transaction" in db)) return fn(pgliteRunner(db));
      return db.transaction((tx) => fn(pgliteRunner(tx)));
    },
  };
}
