// The auth service's rules: who gets a session, how it is renewed, changed and ended. Users live in
// the user service (reached over RPC with this service's own credential); passwords, access tokens,
// sessions (refresh.ts) and limits each have their own module.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { UserResponseSchema, type InternalUserResponse, type UserResponse, type UserService } from "../../gen/user/v1/user_pb.ts";
import type { Store } from "../../lib/redis/index.ts";
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PROBLEM_TYPES,
  ResourceExhaustedError,
  UnauthenticatedError,
} from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { isRevoked, type Revocations } from "../../lib/tokens/revocation.ts";
import { AccessTokenExpiredError, type AccessClaims, type AccessTokens, type IssuedToken } from "../../lib/tokens/tokens.ts";
import type { MailQueue } from "./account-mail.ts";
import type { Limits } from "./limits.ts";
import type { OneTimeTokens } from "./one-time-tokens.ts";
import type { Passwords } from "./passwords.ts";
import type { Client as SessionClient, RefreshTokens, SessionInfo } from "./refresh.ts";

export type AuthDeps = {
  users: Client<typeof UserService>;
  store: Store;
  tokens: AccessTokens;
  refresh: RefreshTokens;
  revocations: Revocations;
  limits: Limits;
  passwords: Passwords;
  log: Logger;
  /** oneTimeTokens are the mailed links' single-use tokens. */
  oneTimeTokens: OneTimeTokens;
  /** mail queues the account mails; startWorker sends them from this process (account-mail.ts). */
  mail: { queue: MailQueue; startWorker(): void; describe(): string; close(): Promise<void> };
  /** requireVerifiedEmail refuses sign-ins to unverified addresses (REQUIRE_VERIFIED_EMAIL). */
  requireVerifiedEmail: boolean;
};

/** Session is what Register, Login and RefreshToken answer. */
export type Session = { user: UserResponse; accessToken: string; refreshToken: string; expiresIn: number; sessionId: string };

export type { SessionClient };

export const INVALID_CREDENTIALS = "invalid email or password";
const INVALID_REFRESH = "invalid refresh token";

/** register hashes the password (already validated), creates the user and starts a session. */
export async function register(
  deps: AuthDeps,
  input: { email: string; password: string; name: string },
  client: SessionClient,
): Promise<Session> {
  await deps.limits.register(client.ip);
  const passwordHash = await deps.passwords.hash(input.password);
  const since = Date.now();
  const user = await fromUserService(deps.users.createUser({ email: input.email, passwordHash, name: input.name }));
  if (!user) throw new Error("user service: CreateUser answered NotFound");
  // The registration's own session works unverified (so the client can resend the mail); a lost
  // job is logged, and the user can ask again (POST /auth/email/verify/resend).
  const [session] = await Promise.all([
    startSession(deps, user, client, since, INVALID_CREDENTIALS),
    deps.mail.queue.add({ kind: "verify_email", userId: user.id, email: user.email }).catch((error: unknown) => {
      deps.log.error("the verification mail could not be queued", { user_id: user.id, error });
    }),
  ]);
  return session;
}

/**
 * login answers the same error for an unknown, deleted or hash-less account as for a wrong
 * password, after the same work: exactly one Argon2id verification in every case. Attempts are
 * counted per client network and per account before anything is read.
 */
export async function login(deps: AuthDeps, input: { email: string; password: string }, client: SessionClient): Promise<Session> {
  await deps.limits.signIn(input.email, client.ip);
  const since = Date.now();
  const found = await fromUserService(deps.users.getUserByEmailInternal({ email: input.email }));
  const user = found && !found.deletedAt ? found : null;
  const ok = await deps.passwords.verify(input.password, user?.passwordHash ?? null);
  if (!user || !ok) throw new UnauthenticatedError(INVALID_CREDENTIALS);
  // Only after the password is right: otherwise the answer would tell whether an address is verified.
  if (deps.requireVerifiedEmail && !user.emailVerifiedAt) {
    await deps.limits.succeeded(input.email);
    throw new PermissionDeniedError(
      "the email address is not verified: follow the link mailed to it, or sign up again to get a new one",
      PROBLEM_TYPES.emailNotVerified,
    );
  }
  const [session] = await Promise.all([
    startSession(deps, toPublicUser(user), client, since, INVALID_CREDENTIALS),
    deps.limits.succeeded(input.email),
  ]);
  return session;
}

/** verifyToken checks an access token's signature and claims, then its revocation (one store read). */
export async function verifyToken(deps: AuthDeps, token: string): Promise<AccessClaims> {
  const claims = await deps.tokens.verify(token);
  if (await isRevoked(deps.store, claims)) throw new UnauthenticatedError("access token has been revoked");
  return claims;
}

/** refresh rotates the refresh token and issues an access token from the user as they are now. */
export async function refresh(deps: AuthDeps, refreshToken: string, client: SessionClient): Promise<Session> {
  const since = Date.now();
  const { token, sid, value } = await deps.refresh.rotate(refreshToken, client, async (userId) => {
    const current = await fromUserService(deps.users.getUser({ id: userId }));
    if (!current) throw new UnauthenticatedError(INVALID_REFRESH); // deleted since
    return current;
  });
  const { user, access } = await signChecked(deps, value, sid, since, INVALID_REFRESH);
  return { user, accessToken: access.token, refreshToken: token, expiresIn: access.expiresIn, sessionId: sid };
}

/**
 * logout ends the access token's session (its refresh token and every access token in it) and the
 * refresh token's session. Either may be absent; an unknown refresh token or an already expired
 * access token is fine.
 */
export async function logout(deps: AuthDeps, input: { accessToken: string; refreshToken: string }): Promise<void> {
  if (!input.accessToken && !input.refreshToken) {
    throw new InvalidArgumentError("access_token", "give the access token, the refresh token, or both");
  }
  const claims = input.accessToken ? await deps.tokens.verify(input.accessToken).catch(expiredIsNull) : null;
  const session = input.refreshToken ? await deps.refresh.sessionOf(input.refreshToken) : null;
  const ended = [claims && { userId: claims.sub, sid: claims.sid }, session].filter((s) => !!s);
  const unique = new Map(ended.map((s) => [`${s.userId}/${s.sid}`, s]));
  await Promise.all([...unique.values()].map((s) => deps.revocations.endSession(s.userId, s.sid)));
}

export type AccountChange = {
  userId: string;
  name?: string;
  email?: string;
  role?: "user" | "admin";
  password?: string;
  currentPassword?: string;
  /** keepSessionId is the caller's own session (a change to one's own account), kept with a fresh pair. */
  keepSessionId: string;
};

export type TokenPair = { accessToken: string; refreshToken: string; expiresIn: number; sessionId: string };

export type AccountUpdate = { user: UserResponse; tokens?: TokenPair; pendingEmail?: string };

/**
 * updateAccount changes a user through the user service, which voids the tokens the change makes
 * stale (role, email, password) and ends every session on a password change. A change to one's own
 * email or password needs the current password, checked like a sign-in and counted against the
 * same limits. The session that made a change continues: it gets a fresh token pair. A user's own
 * new email waits for the link mailed to it (verifyEmail); an admin's change applies at once.
 */
export async function updateAccount(deps: AuthDeps, change: AccountChange, client: SessionClient): Promise<AccountUpdate> {
  const { userId, keepSessionId } = change;
  const current = keepSessionId && change.email !== undefined ? await existingUser(deps, userId) : undefined;
  const newEmail = current && change.email !== current.email ? change.email : undefined;
  if (keepSessionId && change.currentPassword === undefined && (change.password !== undefined || newEmail !== undefined)) {
    throw new InvalidArgumentError("current_password", "is required to change your own password or email");
  }
  if (change.currentPassword !== undefined) await checkPassword(deps, userId, change.currentPassword, client);
  if (current && newEmail !== undefined) {
    if (await fromUserService(deps.users.getUserByEmailInternal({ email: newEmail }))) {
      throw new AlreadyExistsError(`an active user with email ${newEmail} already exists`);
    }
    await deps.mail.queue.add({ kind: "confirm_email_change", userId, email: current.email, newEmail });
  }
  // A user's own email is never changed here: it waits for the confirmation.
  const email = current ? undefined : change.email;
  if (current && change.name === undefined && change.role === undefined && change.password === undefined) {
    return { user: current, pendingEmail: newEmail };
  }
  const passwordHash = change.password === undefined ? undefined : await deps.passwords.hash(change.password);
  const since = Date.now();
  const user = await fromUserService(deps.users.updateUser({ id: userId, name: change.name, email, role: change.role, passwordHash }));
  if (!user) throw new NotFoundError(`no user with id ${userId}`);
  const pendingEmail = newEmail;
  if (!keepSessionId) return { user };
  const mark = await deps.revocations.accessMark(userId);
  if (mark === null || mark < since) return { user, pendingEmail }; // nothing voided: the session's tokens still work
  const refreshToken = await deps.refresh.renew(userId, keepSessionId, mark);
  if (!refreshToken) return { user, pendingEmail }; // the session has ended meanwhile
  const signed = await signChecked(deps, user, keepSessionId, mark + 1, INVALID_REFRESH, mark);
  const tokens = { accessToken: signed.access.token, refreshToken, expiresIn: signed.access.expiresIn, sessionId: keepSessionId };
  return { user: signed.user, tokens, pendingEmail };
}

/** listSessions lists a user's live sessions, most recently used first. */
export async function listSessions(deps: AuthDeps, userId: string): Promise<SessionInfo[]> {
  await existingUser(deps, userId, true);
  return deps.refresh.list(userId);
}

/** endSessions ends one session of the user, or every one (sid empty): their access tokens too. */
export async function endSessions(deps: AuthDeps, userId: string, sid: string): Promise<void> {
  if (sid) return deps.refresh.end(userId, sid);
  await existingUser(deps, userId, true);
  await deps.revocations.endAllSessions(userId);
}

async function checkPassword(deps: AuthDeps, userId: string, password: string, client: SessionClient): Promise<void> {
  const user = await existingUser(deps, userId);
  await deps.limits.signIn(user.email, client.ip);
  const found = await fromUserService(deps.users.getUserByEmailInternal({ email: user.email }));
  const hash = found?.id === userId ? found.passwordHash : null;
  if (!(await deps.passwords.verify(password, hash)) || !hash) throw new UnauthenticatedError("the current password is wrong");
  await deps.limits.succeeded(user.email);
}

async function startSession(deps: AuthDeps, user: UserResponse, client: SessionClient, since: number, refused: string): Promise<Session> {
  const { sid, token } = await deps.refresh.start(user.id, client);
  const signed = await signChecked(deps, user, sid, since, refused);
  return { user: signed.user, accessToken: signed.access.token, refreshToken: token, expiresIn: signed.access.expiresIn, sessionId: sid };
}

/**
 * signChecked signs an access token for a user read at or after `since`, and closes the race with a
 * change committed meanwhile (the user service marks every change after its commit, see
 * lib/tokens/revocation.ts): if a mark at or after `since` exists once the token is signed, the
 * token may carry what the change revoked. Then, if the change ended the user's sessions (a
 * password change, a delete) this session ends too and the call is refused; otherwise the user is
 * read again from the database and a token issued after the mark replaces it. A token signed from
 * a user read before a delete committed is therefore never handed out, nor accepted.
 */
async function signChecked(
  deps: AuthDeps,
  user: UserResponse,
  sid: string,
  since: number,
  refused: string,
  notBeforeMs?: number,
): Promise<{ user: UserResponse; access: IssuedToken }> {
  let current = user;
  let notBefore = notBeforeMs;
  let readAt = since;
  for (let attempt = 0; attempt < 3; attempt++) {
    const access = await deps.tokens.issue(current, sid, notBefore);
    const mark = await deps.revocations.accessMark(current.id);
    if (mark === null || mark < readAt) return { user: current, access };
    if (await deps.revocations.sessionEnded({ sid, userId: current.id, issuedAtMs: readAt })) {
      await deps.revocations.endSession(current.id, sid);
      throw new UnauthenticatedError(refused);
    }
    readAt = Date.now();
    const fresh = await fromUserService(deps.users.getUser({ id: current.id, includeDeleted: true }));
    if (!fresh || fresh.deletedAt) {
      await deps.revocations.endSession(current.id, sid);
      throw new UnauthenticatedError(refused);
    }
    current = fresh;
    notBefore = mark;
  }
  throw new ResourceExhaustedError("the account is changing; retry shortly", 1);
}

// The user, or NotFound for the caller (a deleted one counts only with includeDeleted).
async function existingUser(deps: AuthDeps, id: string, includeDeleted = false): Promise<UserResponse> {
  const user = await fromUserService(deps.users.getUser({ id, includeDeleted }));
  if (!user) throw new NotFoundError(`no user with id ${id}`);
  return user;
}

// Built field by field so the hash can't ride along into a response.
function toPublicUser(user: InternalUserResponse): UserResponse {
  const { id, email, name, role, createdAt, updatedAt, deletedAt, emailVerifiedAt } = user;
  return create(UserResponseSchema, { id, email, name, role, createdAt, updatedAt, deletedAt, emailVerifiedAt });
}

function expiredIsNull(error: unknown): null {
  if (error instanceof AccessTokenExpiredError) return null; // nothing left to revoke
  throw error;
}

// The user service's answers that mean something to our caller pass through unchanged; NotFound
// becomes null. Anything else (say, a refused service credential) is our own misconfiguration:
// Internal for the caller, the detail in the log.
const PASS_THROUGH = new Set([
  Code.AlreadyExists,
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Canceled,
]);

/** fromUserService answers a user-service call's result, null for NotFound, the caller-meaningful codes as they are. */
export async function fromUserService<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    if (connectError.code === Code.NotFound) return null;
    if (PASS_THROUGH.has(connectError.code)) throw connectError;
    throw new Error(`user service answered ${Code[connectError.code]}: ${connectError.rawMessage}`, { cause: error });
  }
}
