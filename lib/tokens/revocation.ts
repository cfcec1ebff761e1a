// Revocation state, written by the user service (a user changed or deleted) and the auth service
// (sessions ended), read by the auth service and, on every request, by the gateway. Three marks:
//
//   revoked:session:{user:<id>}:<sid>   one session ended: its refresh token and every access
//                                       token carrying that sid are void;
//   revoked:access:{user:<id>}          a time in ms: the user's access tokens issued up to then
//                                       are void (a role, email or password change, a delete, a restore);
//   revoked:sessions:{user:<id>}        a time in ms: the user's refresh tokens issued up to then
//                                       are void (a password change, a delete, "log out everywhere").
//
// All three carry the user's hash tag (userTag), like the user's cached record, so on a Redis
// Cluster they share one slot and every read of them (with the record) is one MGET.
//
// Each lives as long as what it voids can (so a restore months after a delete doesn't revive old
// refresh tokens). Times are compared in milliseconds (the access token's jti is a UUIDv7; refresh
// records keep theirs), so a token issued strictly after a mark is good: the auth service re-signs
// after any mark that lands while it signs (services/auth/auth.ts), instead of keeping a per-user
// epoch in the database, which would cost the gateway a database read per request. The binaries'
// clocks are assumed to agree to well under a token's lifetime (NTP).
import { type Store, userTag } from "../redis/types.ts";

const sessionKey = (userId: string, sid: string) => `revoked:session:${userTag(userId)}:${sid}`;
const userKey = (userId: string) => `revoked:access:${userTag(userId)}`;
const sessionsKey = (userId: string) => `revoked:sessions:${userTag(userId)}`;
// Verifiers accept a token a little past its exp (clock skew, lib/tokens/tokens.ts: 30 s), so a
// mark must outlive it by more than that.
const SKEW_MARGIN_SECONDS = 60;

/** Lifetimes are how long credentials live: each mark is kept as long as what it voids. */
export type Lifetimes = { accessSeconds: number; refreshSeconds: number };

export type Revocations = {
  /** endSession voids one session of the user: its refresh token and its access tokens. */
  endSession(userId: string, sid: string): Promise<void>;
  /** voidAccessTokens voids the user's access tokens issued up to now and answers the mark (ms). */
  voidAccessTokens(userId: string): Promise<number>;
  /** endAllSessions voids every access and refresh token of the user issued up to now; answers the mark (ms). */
  endAllSessions(userId: string): Promise<number>;
  /** accessMark is the time up to which the user's access tokens are void, or null. */
  accessMark(userId: string): Promise<number | null>;
  /** sessionEnded tells whether a refresh token of session sid issued at issuedAtMs is void. */
  sessionEnded(session: { sid: string; userId: string; issuedAtMs: number }): Promise<boolean>;
  /** sessionsEnded answers sessionEnded for several sessions of one user in one round trip. */
  sessionsEnded(userId: string, sessions: { sid: string; issuedAtMs: number }[]): Promise<boolean[]>;
};

/** createRevocations writes and reads the marks in store; a failed write throws (CacheUnavailableError). */
export function createRevocations(store: Store, lifetimes: Lifetimes): Revocations {
  const longest = Math.max(lifetimes.accessSeconds, lifetimes.refreshSeconds) + SKEW_MARGIN_SECONDS;
  const access = lifetimes.accessSeconds + SKEW_MARGIN_SECONDS;
  const refresh = lifetimes.refreshSeconds + SKEW_MARGIN_SECONDS;
  const sessionsEnded: Revocations["sessionsEnded"] = async (userId, sessions) => {
    const [mark, ...ended] = await store.cache.getMany<unknown>([sessionsKey(userId), ...sessions.map((s) => sessionKey(userId, s.sid))]);
    return sessions.map((s, i) => ended[i] != null || (mark != null && s.issuedAtMs <= Number(mark)));
  };
  return {
    endSession: (userId, sid) => store.cache.set(sessionKey(userId, sid), 1, longest),
    async voidAccessTokens(userId) {
      const at = Date.now();
      await store.cache.set(userKey(userId), at, access);
      return at;
    },
    async endAllSessions(userId) {
      const at = Date.now();
      await Promise.all([store.cache.set(userKey(userId), at, access), store.cache.set(sessionsKey(userId), at, refresh)]);
      return at;
    },
    async accessMark(userId) {
      const mark = await store.cache.get<number>(userKey(userId));
      return mark == null ? null : Number(mark);
    },
    sessionEnded: async ({ userId, ...session }) => (await sessionsEnded(userId, [session]))[0] as boolean,
    sessionsEnded,
  };
}

/** pastMark resolves once the clock is past markMs, so a credential issued then is spared by the mark. */
export async function pastMark(markMs: number, now: () => number = Date.now): Promise<void> {
  while (now() <= markMs) await Bun.sleep(1);
}

/** isRevoked tells whether an access token (its session, user and issue time in ms) was revoked. */
export async function isRevoked(store: Store, token: { sid: string; sub: string; iatMs: number }): Promise<boolean> {
  return revokedBy(token, await store.cache.getMany(revocationKeys(token)));
}

/** revocationKeys names the cache keys isRevoked reads, for a caller that reads them in a round trip
 * of its own (the gateway: with its rate limit); revokedBy then decides from their values. */
export function revocationKeys(token: { sid: string; sub: string }): [string, string] {
  return [sessionKey(token.sub, token.sid), userKey(token.sub)];
}

/** revokedBy decides isRevoked from the values of revocationKeys, read in that order (decoded, or
 * the stored JSON text). A token issued in the very millisecond of a mark counts as revoked. */
export function revokedBy(token: { iatMs: number }, [sessionEnded, userRevokedAt]: unknown[]): boolean {
  return sessionEnded != null || (userRevokedAt != null && token.iatMs <= Number(userRevokedAt));
}
