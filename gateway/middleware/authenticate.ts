// Bearer authentication without an RPC per request: the JWT is verified locally (jose, in the
// shared tokens module), remembered in a small bounded cache until it expires, and checked against
// the auth service's revocation state. The revocation marks are read by the rate limit in its own
// round trip (prefetchKeys names them), together with the user's cached record for GET /users/me:
// one store round trip per authenticated request.
import type { MiddlewareHandler } from "hono";
import { type Store, userTag } from "../../lib/redis/index.ts";
import { isRevoked, revocationKeys, revokedBy } from "../../lib/tokens/revocation.ts";
import type { AccessClaims } from "../../lib/tokens/tokens.ts";
import { bearerChallenge, ProblemError } from "../problem.ts";

export type { AccessClaims };

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const CACHE_SIZE = 10_000;

const unauthorized = (description: string) =>
  new ProblemError(401, description, { headers: { "WWW-Authenticate": bearerChallenge(description) } });

/** bearerToken is the token of an `Authorization: Bearer <token>` header, else undefined. */
function bearerToken(header: string): string | undefined {
  return header.length <= 8192 ? BEARER.exec(header)?.[1] : undefined;
}

/** Prefetch is what the rate limit reads for a bearer token in its round trip, and what it read
 * (each key's stored JSON text); header is the Authorization value the token was taken from. */
export type Prefetch = { header: string; token: string; keys: string[]; values?: (string | null)[] };

// The token's two revocation marks (its session, its user), then its user's cached record
// (`{user:<sub>}`, which the user service writes as the user.v1.UserResponse contract). All three
// carry the user's hash tag: on a Redis Cluster they are one slot, read by one MGET.
const keysOf = (claims: { sub: string; sid: string }) => [...revocationKeys(claims), userTag(claims.sub)];
const sameKeys = (a: string[], b: string[]) => a.length === b.length && a.every((key, i) => key === b[i]);

// Keys by token: decoding a payload costs more than the rest of the rate limit's JavaScript, and a
// client sends the same token many times. Bounded like the verified-token cache below.
const keysByToken = new Map<string, string[] | null>();

/**
 * prefetchKeys names the store keys an authenticated request reads (keysOf) so that the rate limit
 * reads them with its hit. The claims are decoded without verification: they only name keys, and
 * authenticate uses what was read only once the token has verified and its claims name the same
 * keys. Undefined without a well-formed bearer token.
 */
export function prefetchKeys(header: string | undefined): Prefetch | undefined {
  if (!header) return undefined;
  const token = bearerToken(header);
  if (!token) return undefined;
  let keys = keysByToken.get(token);
  if (keys === undefined) {
    keys = unverifiedKeys(token);
    if (keysByToken.size >= CACHE_SIZE) keysByToken.delete(keysByToken.keys().next().value!);
    keysByToken.set(token, keys);
  }
  return keys ? { header, token, keys } : undefined;
}

function unverifiedKeys(token: string): string[] | null {
  try {
    const claims: unknown = JSON.parse(Buffer.from(token.split(".", 2)[1] ?? "", "base64url").toString());
    const { sub, sid } = claims as { sub?: unknown; sid?: unknown };
    if (typeof sub !== "string" || typeof sid !== "string" || !sub || !sid) return null;
    return keysOf({ sub, sid });
  } catch {
    return null; // not a JWT: authenticate answers 401
  }
}

/** authenticate requires a valid, unrevoked bearer token and sets c.var.auth and c.var.rawToken, and
 * c.var.cachedUser when the rate limit read the user's cached record. */
export function authenticate(verify: (token: string) => Promise<AccessClaims>, store: Store): MiddlewareHandler {
  // Verified tokens by value, with the keys their claims name; Map keeps insertion order, so the
  // oldest entry is evicted first.
  const verified = new Map<string, { claims: AccessClaims; keys: string[] }>();
  return async function authenticate(c, next) {
    const header = c.req.header("authorization");
    if (!header) throw unauthorized("an access token is required (Authorization: Bearer <token>)");
    const read = c.get("prefetch");
    const token = read?.header === header ? read.token : bearerToken(header);
    if (!token) throw unauthorized("the Authorization header must be 'Bearer <token>'");

    let entry = verified.get(token);
    if (!entry || entry.claims.exp * 1000 <= Date.now()) {
      verified.delete(token);
      const claims = await verify(token).catch(() => undefined);
      if (!claims) throw unauthorized("the access token is invalid or expired");
      if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value!);
      entry = { claims, keys: keysOf(claims) };
      verified.set(token, entry);
    }
    const { claims } = entry;
    // The rate limit read this token's marks when its verified claims name the keys it read; else
    // (a route without a rate limit) they are read here.
    const values = read?.token === token && sameKeys(read.keys, entry.keys) ? read.values : undefined;
    const revoked = values
      ? revokedBy(claims, values)
      : await isRevoked(store, claims).catch(() => {
          throw new ProblemError(503, "token revocation can't be checked right now; retry shortly");
        });
    if (revoked) throw unauthorized("the access token has been revoked");
    c.set("auth", claims);
    c.set("rawToken", token);
    if (values?.[2] != null) c.set("cachedUser", values[2]);
    await next();
  };
}

/** requireAdmin answers 403 unless the authenticated user is an admin. */
export const requireAdmin: MiddlewareHandler = async function requireAdmin(c, next) {
  if (c.get("auth").role !== "admin") throw new ProblemError(403, "this operation requires the admin role");
  await next();
};
