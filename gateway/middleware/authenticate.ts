// Bearer authentication without an RPC per request: the JWT is verified locally (jose, in the
// shared tokens module), remembered in a small bounded cache until it expires, and checked against
// the auth service's revocation state in one store round trip on every request.
import type { MiddlewareHandler } from "hono";
import type { Store } from "../../lib/redis/types.ts";
import { isRevoked } from "../../lib/tokens/revocation.ts";
import type { AccessClaims } from "../../lib/tokens/tokens.ts";
import { bearerChallenge, ProblemError } from "../problem.ts";

export type { AccessClaims };

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const CACHE_SIZE = 10_000;

const unauthorized = (description: string) =>
  new ProblemError(401, description, { headers: { "WWW-Authenticate": bearerChallenge(description) } });

/** authenticate requires a valid, unrevoked bearer token and sets c.var.auth and c.var.rawToken. */
export function authenticate(verify: (token: string) => Promise<AccessClaims>, store: Store): MiddlewareHandler {
  // Verified tokens by value; Map keeps insertion order, so the oldest entry is evicted first.
  const verified = new Map<string, AccessClaims>();
  return async function authenticate(c, next) {
    const header = c.req.header("authorization");
    if (!header) throw unauthorized("an access token is required (Authorization: Bearer <token>)");
    const token = header.length <= 8192 ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw unauthorized("the Authorization header must be 'Bearer <token>'");

    let claims = verified.get(token);
    if (!claims || claims.exp * 1000 <= Date.now()) {
      verified.delete(token);
      claims = await verify(token).catch(() => undefined);
      if (!claims) throw unauthorized("the access token is invalid or expired");
      if (verified.size >= CACHE_SIZE) verified.delete(verified.keys().next().value!);
      verified.set(token, claims);
    }
    const revoked = await isRevoked(store, claims).catch(() => {
      throw new ProblemError(503, "token revocation can't be checked right now; retry shortly");
    });
    if (revoked) throw unauthorized("the access token has been revoked");
    c.set("auth", claims);
    c.set("rawToken", token);
    await next();
  };
}

/** requireAdmin answers 403 unless the authenticated user is an admin. */
export const requireAdmin: MiddlewareHandler = async function requireAdmin(c, next) {
  if (c.get("auth").role !== "admin") throw new ProblemError(403, "this operation requires the admin role");
  await next();
};
