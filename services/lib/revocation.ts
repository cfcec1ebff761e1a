// Revocation state shared by the user service (which revokes a user's tokens when it deletes the
// user), the auth service (logout) and the gateway (which checks it on every request). Both checks
// read in one round trip: a revoked access token's jti, and the time before which a user's tokens
// are void.
import type { Store } from "./cache/types.ts";

const jtiKey = (jti: string) => `revoked:jti:${jti}`;
const userKey = (userId: string) => `revoked:user:${userId}`;

/** revokeToken voids one access token until it would have expired anyway. */
export function revokeToken(store: Store, jti: string, expiresAtSeconds: number): Promise<void> {
  const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
  return store.cache.set(jtiKey(jti), 1, ttl);
}

/** revokeUser voids every token of a user issued up to now; kept as long as a token can live. */
export function revokeUser(store: Store, userId: string, maxTokenLifetimeSeconds: number): Promise<void> {
  return store.cache.set(userKey(userId), Date.now(), maxTokenLifetimeSeconds);
}

/** isRevoked tells whether a token (by jti and issue time in seconds) of this user was revoked. */
export async function isRevoked(store: Store, token: { jti: string; sub: string; iat: number }): Promise<boolean> {
  const [jtiRevoked, userRevokedAt] = await store.cache.getMany<number>([jtiKey(token.jti), userKey(token.sub)]);
  return jtiRevoked != null || (userRevokedAt != null && token.iat * 1000 <= userRevokedAt);
}
