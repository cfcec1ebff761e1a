// The user service's rules: validation and normalization, soft-delete semantics, the read-through
// cache, the last active admin, and voiding a user's tokens when the user changes. Queries live in
// user.store.ts.
import type { PrismaClient, User } from "../../gen/prisma/client.ts";
import type { Db } from "../../lib/db/database.ts";
import type { Store } from "../../lib/redis/types.ts";
import { isUniqueViolation } from "../../lib/db/errors.ts";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { metrics } from "../../lib/metrics/metrics.ts";
import type { Revocations } from "../../lib/tokens/revocation.ts";
import * as userCache from "./user.cache.ts";
import * as store from "./user.store.ts";

export type UserDeps = {
  prisma: PrismaClient;
  cache: Store;
  log: Logger;
  /** revocations voids a changed or deleted user's tokens (lib/tokens/revocation.ts). */
  revocations: Revocations;
};

/** PublicUser is a user without the password hash: what every public RPC returns and the cache holds. */
export type PublicUser = Omit<User, "passwordHash">;

export const PAGE_SIZE = { default: 20, max: 100 } as const;

/** toPublic drops the password hash. */
export function toPublic({ passwordHash: _, ...user }: User): PublicUser {
  return user;
}

/** getUser returns an active user (read through the cache), or any user with includeDeleted. */
export async function getUser(deps: UserDeps, id: string, includeDeleted = false): Promise<PublicUser> {
  if (!includeDeleted) {
    const cached = await cacheRead(deps, id);
    if (cached) return cached;
  }
  const user = await store.findById(deps.prisma, id, includeDeleted);
  if (!user) throw notFound(id);
  const result = toPublic(user);
  if (!user.deletedAt) await cacheWrite(deps, result);
  return result;
}

/** getUserByEmail returns the active user with this (normalized) email. */
export async function getUserByEmail(deps: UserDeps, email: string): Promise<User> {
  const user = await store.findByEmail(deps.prisma, email);
  if (!user) throw new NotFoundError(`no user with email ${email}`);
  return user;
}

/** getUserByEmailWithDeleted also finds a soft-deleted user (the active one first). */
export async function getUserByEmailWithDeleted(deps: UserDeps, email: string): Promise<User> {
  const user = await store.findByEmailWithDeleted(deps.prisma, email);
  if (!user) throw new NotFoundError(`no user with email ${email}`);
  return user;
}

/** listUsers pages through users in creation order with an opaque cursor. */
export async function listUsers(
  deps: UserDeps,
  { pageSize, pageToken, state }: { pageSize: number; pageToken: string; state: store.UserState },
): Promise<{ users: PublicUser[]; nextPageToken: string }> {
  const after = pageToken ? decodePageToken(pageToken, state) : undefined;
  const rows = await store.list(deps.prisma, { state, after, take: pageSize + 1 });
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  return {
    users: page.map(toPublic),
    nextPageToken: rows.length > pageSize && last ? encodePageToken(last.id, state) : "",
  };
}

/** createUser inserts a user; an active user with the same email → AlreadyExistsError. */
export async function createUser(
  deps: UserDeps,
  data: { email: string; passwordHash: string; name: string; role: "user" | "admin" },
): Promise<PublicUser> {
  const user = await uniqueEmail(data.email, store.create(deps.prisma, data));
  return toPublic(user);
}

export type UserPatch = {
  name?: string;
  email?: string;
  role?: "user" | "admin";
  passwordHash?: string;
  /** emailVerified true marks the (new) email verified (now, unless it already is), false clears the mark; unset, a new email clears it. */
  emailVerified?: boolean;
  /** expectedEmail makes the update apply only while the user's email is still this one. */
  expectedEmail?: string;
};

/** updateUser changes the given fields of an active user; a deleted user is refused. A new role or
 * email voids the user's access tokens, a new password hash also ends every session; the caller
 * (the auth service) starts the session that made the change again. */
export async function updateUser(deps: UserDeps, id: string, patch: UserPatch): Promise<PublicUser> {
  const { emailVerified, expectedEmail, ...fields } = patch;
  const user = await changeUser(deps, id, async (tx) => {
    // Locked: an expected email is checked against the row the update then changes.
    const existing = expectedEmail === undefined ? await store.findById(tx, id, true) : await store.lockById(tx, id);
    if (!existing) throw notFound(id);
    if (existing.deletedAt) throw new FailedPreconditionError(`user ${id} is deleted: restore it before updating`);
    if (expectedEmail !== undefined && existing.email !== expectedEmail) {
      throw new FailedPreconditionError(`user ${id} no longer has the expected email`);
    }
    if (existing.role === "admin" && patch.role === "user") await keepAnAdmin(tx, id, "demoted");
    const emailChanges = fields.email !== undefined && fields.email !== existing.email;
    // A second link for an address already verified keeps the first time.
    const alreadyVerified = existing.emailVerifiedAt !== null && !emailChanges;
    const verified =
      emailVerified === true
        ? alreadyVerified
          ? {}
          : { emailVerifiedAt: new Date() }
        : emailVerified === false || emailChanges
          ? { emailVerifiedAt: null }
          : {};
    const updated = await uniqueEmail(patch.email ?? existing.email, store.update(tx, id, { ...fields, ...verified }));
    const voids: Voids =
      patch.passwordHash !== undefined ? "sessions" : updated.email !== existing.email || updated.role !== existing.role ? "access" : null;
    return { result: updated, voids };
  });
  return toPublic(user);
}

/** deleteUser soft-deletes an active user and ends every session of theirs. */
export async function deleteUser(deps: UserDeps, id: string): Promise<void> {
  await changeUser(deps, id, async (tx) => {
    const existing = await store.findById(tx, id);
    if (!existing) throw notFound(id);
    if (existing.role === "admin") await keepAnAdmin(tx, id, "deleted");
    if (!(await store.softDelete(tx, id))) throw notFound(id);
    return { result: undefined, voids: "sessions" };
  });
}

/** restoreUser clears deleted_at; refused when an active user now holds the email. Tokens issued
 * before the restore stay void. */
export async function restoreUser(deps: UserDeps, id: string): Promise<PublicUser> {
  const user = await changeUser(deps, id, async (tx) => {
    const existing = await store.findById(tx, id, true);
    if (!existing) throw notFound(id);
    if (!existing.deletedAt) return { result: existing, voids: null };
    const updated = await uniqueEmail(existing.email, store.update(tx, id, { deletedAt: null }), "restore: ");
    return { result: updated, voids: "access" };
  });
  return toPublic(user);
}

/** hardDeleteUser removes the row for good, deleted or not, and ends every session of the user. */
export async function hardDeleteUser(deps: UserDeps, id: string): Promise<void> {
  await changeUser(deps, id, async (tx) => {
    const existing = await store.findById(tx, id, true);
    if (!existing) throw notFound(id);
    if (existing.role === "admin" && !existing.deletedAt) await keepAnAdmin(tx, id, "deleted");
    if (!(await store.hardDelete(tx, id))) throw notFound(id);
    return { result: undefined, voids: "sessions" };
  });
}

// What a change voids: the user's access tokens, or every session too.
type Voids = "access" | "sessions" | null;

// A change to a user, its revocation marks and the cache. The marks are written twice. Inside the
// transaction, before the commit: if they can't be written (Redis down → CacheUnavailableError →
// Unavailable), the change rolls back and isn't reported done. After the commit: a token the auth
// service signed while the change committed, from the user as they were, is voided too (and that
// write failing answers Unavailable, never success).
async function changeUser<T>(deps: UserDeps, id: string, work: (tx: Db) => Promise<{ result: T; voids: Voids }>): Promise<T> {
  const { result, voids } = await deps.prisma.$transaction(async (tx) => {
    const done = await work(tx);
    await revoke(deps, id, done.voids);
    return done;
  });
  await cacheInvalidate(deps, id);
  await revoke(deps, id, voids);
  return result;
}

async function revoke(deps: UserDeps, id: string, voids: Voids): Promise<void> {
  if (voids === "sessions") await deps.revocations.endAllSessions(id);
  else if (voids === "access") await deps.revocations.voidAccessTokens(id);
}

// The last active admin can't be demoted or deleted: nobody could administer users any more.
async function keepAnAdmin(tx: Db, id: string, what: string): Promise<void> {
  const admins = await store.lockActiveAdmins(tx);
  if (admins.length <= 1 && admins.includes(id)) {
    throw new FailedPreconditionError(`user ${id} is the last active admin and can't be ${what}: make another user admin first`);
  }
}

const notFound = (id: string) => new NotFoundError(`no user with id ${id}`);

async function uniqueEmail<T>(email: string, write: Promise<T>, context = ""): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExistsError(`${context}an active user with email ${email} already exists`);
    throw error;
  }
}

// The cursor carries the state it was made for, so a token can't be replayed on another filter.
function encodePageToken(lastId: string, state: store.UserState): string {
  return Buffer.from(JSON.stringify({ after: lastId, state })).toString("base64url");
}

function decodePageToken(token: string, state: store.UserState): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    const { after, state: tokenState } = parsed as { after?: unknown; state?: unknown };
    if (typeof after === "string" && /^[0-9a-f-]{36}$/.test(after) && tokenState === state) return after;
  } catch {
    // fall through: any undecodable token is the client's mistake
  }
  throw new InvalidArgumentError("page_token", "is not a token from a previous page of this listing");
}

// The cache only ever speeds things up: when it is down, reads go to the database and a failed
// invalidation is logged (entries expire after their TTL anyway).
async function cacheRead(deps: UserDeps, id: string): Promise<PublicUser | null> {
  try {
    const cached = await userCache.read(deps.cache, id);
    metrics.userCache.inc({ result: cached ? "hit" : "miss" });
    return cached;
  } catch (error) {
    metrics.userCache.inc({ result: "miss" });
    deps.log.warn("user cache read failed", { error });
    return null;
  }
}

async function cacheWrite(deps: UserDeps, user: PublicUser): Promise<void> {
  await userCache.write(deps.cache, user).catch((error: unknown) => deps.log.warn("user cache write failed", { error }));
}

async function cacheInvalidate(deps: UserDeps, id: string): Promise<void> {
  await userCache.invalidate(deps.cache, id).catch((error: unknown) => deps.log.warn("user cache invalidation failed", { error }));
}
