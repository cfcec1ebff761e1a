// Revocation state shared by the user service (which revokes a user's tokens when it deletes the
// user), the auth service (logout) and the gateway (which checks it on every request). Both checks
// read in one round trip: a revoked access token's jti, and the time before which a user's tokens
// are void. The gateway reads the same two marks in its rate limit's round trip (revocationKeys, revokedBy).
import type { Store } from "../redis/types.ts";

const jtiKey = (jti: string) => `revoked:jti:${jti}`;
const userKey = (userId: string) => `revoked:user:${userId}`;
// Verifiers accept a token a little past its exp (clock skew, lib/tokens/tokens.ts: 30 s), so a
// revocation must outlive it by more than that.
const SKEW_MARGIN_SECONDS = 60;

/** revokeToken voids one access token until it would have expired anyway. */
export function revokeToken(store: Store, jti: string, expiresAtSeconds: number): Promise<void> {
  const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000)) + SKEW_MARGIN_SECONDS;
  return store.cache.set(jtiKey(jti), 1, ttl);
}

/** revokeUser voids every token of a user issued up to now; kept as long as a token can live. */
export function revokeUser(store: Store, userId: string, maxTokenLifetimeSeconds: number): Promise<void> {
  return store.cache.set(userKey(userId), Date.now(), maxTokenLifetimeSeconds + SKEW_MARGIN_SECONDS);
}

/**
 * isRevoked tells whether a token (by jti and issue time in milliseconds) of this user was revoked.
 * Millisecond precision lets a user deleted, restored and signed in again within one second keep
 * the new token; one issued in the very millisecond of the revocation counts as revoked.
 */
export async function isRevoked(store: Store, token: { jti: string; sub: string; iatMs: number }): Promise<boolean> {
  return revokedBy(token, await store.cache.getMany(revocationKeys(token)));
}

/** revocationKeys names the cache keys isRevoked reads, for a caller that reads them in a round trip
 * of its own (the gateway: with its rate limit); revokedBy then decides from their values. */
export function revocationKeys(token: { jti: string; sub: string }): [string, string] {
  return [jtiKey(token.jti), userKey(token.sub)];
}

/** revokedBy decides isRevoked from the values of revocationKeys, read in that order (decoded, or
 * the stored JSON text). */
export function revokedBy(token: { iatMs: number }, [jtiRevoked, userRevokedAt]: unknown[]): boolean {
  return jtiRevoked != null || (userRevokedAt != null && token.iatMs <= Number(userRevokedAt));
}

/** isUserRevoked tells whether a credential of this user issued at issuedAtMs predates revokeUser
 * (refresh tokens check it, so restoring a deleted account doesn't revive its old sessions). */
export async function isUserRevoked(store: Store, userId: string, issuedAtMs: number): Promise<boolean> {
  const revokedAt = await store.cache.get<number>(userKey(userId));
  return revokedAt != null && issuedAtMs <= revokedAt;
}
