// Queries on the users table. Every function takes a Db, so it runs inside or outside a
// transaction. Emails arrive already normalized (see lib/validation.ts).
import type { Db } from "../../lib/db/database.ts";
import type { Prisma, User } from "../../gen/prisma/client.ts";

export type UserState = "active" | "deleted" | "all";

const stateFilter = (state: UserState): Prisma.UserWhereInput =>
  state === "all" ? {} : state === "deleted" ? { deletedAt: { not: null } } : { deletedAt: null };

/** findById returns an active user, or any user with includeDeleted. */
export function findById(db: Db, id: string, includeDeleted = false): Promise<User | null> {
  return db.user.findFirst({ where: { id, ...(includeDeleted ? {} : { deletedAt: null }) } });
}

/** lockById reads any user (deleted too) and locks the row until the transaction ends. */
export async function lockById(db: Db, id: string): Promise<User | null> {
  await db.$executeRaw`SELECT 1 FROM users WHERE id = ${id}::uuid FOR UPDATE`;
  return findById(db, id, true);
}

/** findByEmail returns the active user with this email. */
export function findByEmail(db: Db, email: string): Promise<User | null> {
  return db.user.findFirst({ where: { email, deletedAt: null } });
}

/** findByEmailWithDeleted prefers the active user, else the most recently deleted one. */
export function findByEmailWithDeleted(db: Db, email: string): Promise<User | null> {
  return db.user.findFirst({
    where: { email },
    orderBy: [{ deletedAt: { sort: "desc", nulls: "first" } }],
  });
}

/** list returns up to `take` users after the cursor id, in creation order (ids are UUIDv7). */
export function list(db: Db, { state, after, take }: { state: UserState; after?: string; take: number }): Promise<User[]> {
  return db.user.findMany({
    where: { ...stateFilter(state), ...(after ? { id: { gt: after } } : {}) },
    orderBy: { id: "asc" },
    take,
  });
}

/** create inserts a user; a duplicate active email surfaces as Prisma's P2002. */
export function create(db: Db, data: Prisma.UserCreateInput): Promise<User> {
  return db.user.create({ data });
}

/** update changes an existing user's fields. */
export function update(db: Db, id: string, data: Prisma.UserUpdateInput): Promise<User> {
  return db.user.update({ where: { id }, data });
}

/** softDelete marks an active user deleted; null when there is no such active user. */
export async function softDelete(db: Db, id: string): Promise<User | null> {
  const { count } = await db.user.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: new Date() } });
  return count === 0 ? null : findById(db, id, true);
}

/** hardDelete removes the row; false when there was none. */
export async function hardDelete(db: Db, id: string): Promise<boolean> {
  const { count } = await db.user.deleteMany({ where: { id } });
  return count > 0;
}

/** lockActiveAdmins locks the active admins' rows until the transaction ends and answers their ids:
 * two admins demoting each other at once are serialized, and the second sees the first's change. */
export async function lockActiveAdmins(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<
    { id: string }[]
  >`SELECT id::text AS id FROM users WHERE role = 'admin' AND deleted_at IS NULL FOR UPDATE`;
  return rows.map((row) => row.id);
}
