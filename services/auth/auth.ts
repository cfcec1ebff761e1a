// The auth service's rules: who gets a session, how it is renewed, how it ends. Users live in the
// user service (reached over RPC with this service's own credential); passwords, access tokens and
// refresh tokens each have their own module.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { UserResponseSchema, type InternalUserResponse, type UserResponse, type UserService } from "../../gen/user/v1/user_pb.ts";
import type { Store } from "../../lib/redis/index.ts";
import { InvalidArgumentError, UnauthenticatedError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { isRevoked, revokeToken } from "../../lib/tokens/revocation.ts";
import { AccessTokenExpiredError, type AccessClaims, type AccessTokens } from "../../lib/tokens/tokens.ts";
import type { Passwords } from "./passwords.ts";
import type { RefreshTokens } from "./refresh.ts";

export type AuthDeps = {
  users: Client<typeof UserService>;
  store: Store;
  tokens: AccessTokens;
  refresh: RefreshTokens;
  passwords: Passwords;
  log: Logger;
};

/** Session is what Register, Login and RefreshToken answer. */
export type Session = { user: UserResponse; accessToken: string; refreshToken: string; expiresIn: number };

export const INVALID_CREDENTIALS = "invalid email or password";

/** register hashes the password (already validated), creates the user and starts a session. */
export async function register(deps: AuthDeps, input: { email: string; password: string; name: string }): Promise<Session> {
  const passwordHash = await deps.passwords.hash(input.password);
  const user = await fromUserService(deps.users.createUser({ email: input.email, passwordHash, name: input.name }));
  if (!user) throw new Error("user service: CreateUser answered NotFound");
  return startSession(deps, user);
}

/**
 * login answers the same error for an unknown, deleted or hash-less account as for a wrong
 * password, after the same work: exactly one Argon2id verification in every case.
 */
export async function login(deps: AuthDeps, input: { email: string; password: string }): Promise<Session> {
  const found = await fromUserService(deps.users.getUserByEmailInternal({ email: input.email }));
  const user = found && !found.deletedAt ? found : null;
  const ok = await deps.passwords.verify(input.password, user?.passwordHash ?? null);
  if (!user || !ok) throw new UnauthenticatedError(INVALID_CREDENTIALS);
  return startSession(deps, toPublicUser(user));
}

/** verifyToken checks an access token's signature and claims, then its revocation (one store read). */
export async function verifyToken(deps: AuthDeps, token: string): Promise<AccessClaims> {
  const claims = await deps.tokens.verify(token);
  if (await isRevoked(deps.store, claims)) throw new UnauthenticatedError("access token has been revoked");
  return claims;
}

/** refresh rotates the refresh token and issues an access token from the user as they are now. */
export async function refresh(deps: AuthDeps, refreshToken: string): Promise<Session> {
  const { token, value: user } = await deps.refresh.rotate(refreshToken, async (userId) => {
    const current = await fromUserService(deps.users.getUser({ id: userId }));
    if (!current) throw new UnauthenticatedError("invalid refresh token"); // deleted since
    return current;
  });
  const access = await deps.tokens.issue(user);
  return { user, accessToken: access.token, refreshToken: token, expiresIn: access.expiresIn };
}

/**
 * logout revokes the access token (by jti, until it expires) and the refresh token's whole family.
 * Either may be absent; an unknown refresh token or an already expired access token is fine.
 */
export async function logout(deps: AuthDeps, input: { accessToken: string; refreshToken: string }): Promise<void> {
  if (!input.accessToken && !input.refreshToken) {
    throw new InvalidArgumentError("access_token", "give the access token, the refresh token, or both");
  }
  const claims = input.accessToken ? await deps.tokens.verify(input.accessToken).catch(expiredIsNull) : null;
  await Promise.all([
    claims && revokeToken(deps.store, claims.jti, claims.exp),
    input.refreshToken && deps.refresh.revoke(input.refreshToken),
  ]);
}

async function startSession(deps: AuthDeps, user: UserResponse): Promise<Session> {
  const [access, refreshToken] = await Promise.all([deps.tokens.issue(user), deps.refresh.issue(user.id)]);
  return { user, accessToken: access.token, refreshToken, expiresIn: access.expiresIn };
}

// Built field by field so the hash can't ride along into a response.
function toPublicUser(user: InternalUserResponse): UserResponse {
  const { id, email, name, role, createdAt, updatedAt, deletedAt } = user;
  return create(UserResponseSchema, { id, email, name, role, createdAt, updatedAt, deletedAt });
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
  Code.Unavailable,
  Code.DeadlineExceeded,
  Code.ResourceExhausted,
  Code.Canceled,
]);

async function fromUserService<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    if (connectError.code === Code.NotFound) return null;
    if (PASS_THROUGH.has(connectError.code)) throw connectError;
    throw new Error(`user service answered ${Code[connectError.code]}: ${connectError.rawMessage}`, { cause: error });
  }
}
