// Requests held in flight on purpose: a transaction holds an ACCESS EXCLUSIVE lock on the users
// table, so every query on it waits inside PostgreSQL — observable in pg_stat_activity — until
// the test releases the lock. That makes "N requests are in flight" a fact, not a sleep.
import postgres from "postgres";
import { within } from "../wait.ts";

export type TableLock = {
  /** waitFor resolves once n queries on the database wait for the lock (failing after 10 s). */
  waitFor(n: number): Promise<void>;
  /** waiters are the backends of the database waiting for the lock. */
  waiters(): Promise<number[]>;
  /** release ends the transaction (again: no-op). */
  release(): Promise<void>;
};

/** lockUsersTable takes the lock on the database at url and holds it until release(). */
export async function lockUsersTable(url: string): Promise<TableLock> {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const locked = Promise.withResolvers<void>();
  const done = Promise.withResolvers<void>();
  const holding = sql
    .begin(async (tx) => {
      await tx`lock table users in access exclusive mode`;
      locked.resolve();
      await done.promise;
    })
    .catch((error: unknown) => locked.reject(error));
  await locked.promise;

  let released: Promise<void> | undefined;
  const waiters = async () =>
    (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`).map(
      (row) => row.pid,
    );
  return {
    waiters,
    waitFor: (n) =>
      within(10_000, `${n} queries waiting for the lock`, async () => {
        const count = (await waiters()).length;
        if (count < n) throw new Error(`${count} waiting`);
      }),
    release: () =>
      (released ??= (async () => {
        done.resolve();
        await holding;
        await sql.end();
      })()),
  };
}
