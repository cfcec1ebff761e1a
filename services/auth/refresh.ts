// Sessions and their refresh tokens (RFC 9700 §4.14). A session is one sign-in: a family of
// refresh tokens (its id is the access tokens' `sid`) with what the user sees in the session list.
// Refresh tokens are opaque, 256 random bits, stored only as SHA-256 hashes. Every use rotates: the
// presented token stops working and a new one joins its family. Presenting a rotated token again
// means it was copied, so the whole session ends — except the immediate parent within a short
// grace window, so two tabs refreshing at once don't log the user out. The child is derived from
// the parent (HMAC), so a parent presented again in the window gets the *same* child back: still
// one live member, and no plaintext is ever stored. Ending sessions is lib/tokens/revocation.ts's
// marks, which void the access tokens too.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { LockTimeoutError, type Store, userTag } from "../../lib/redis/index.ts";
import { NotFoundError, ResourceExhaustedError, UnauthenticatedError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { pastMark, type Revocations } from "../../lib/tokens/revocation.ts";
import { SESSION_ID } from "../../lib/tokens/tokens.ts";

export type RefreshTokenOptions = {
  store: Store;
  revocations: Revocations;
  /** secret keys the parent → child derivation (JWT_SECRET; a separate key is derived from it). */
  secret: string;
  /** ttlDays is how long a token lives unused (REFRESH_TOKEN_TTL_DAYS). */
  ttlDays: number;
  /** graceSeconds is how long a just-rotated parent still yields its child; default 10, 0 disables. */
  graceSeconds?: number;
  /** maxSessions bounds a user's live sessions; starting one more ends the oldest. Default 100. */
  maxSessions?: number;
  log?: Logger;
  /** now is the clock in milliseconds; tests move it. */
  now?: () => number;
};

/** Client is who a session was started or last used from, as shown in the session list. */
export type Client = { ip: string; userAgent: string };

/** SessionInfo is one live session, as ListSessions shows it (times in ms). */
export type SessionInfo = { id: string; createdAt: number; lastUsedAt: number; userAgent: string; ip: string };

export type RefreshTokens = {
  readonly ttlSeconds: number;
  /** start begins a session (a sign-in) for the user and returns its id and first refresh token. */
  start(userId: string, client: Client): Promise<{ sid: string; token: string }>;
  /**
   * rotate exchanges a token for its successor. authorize(userId, sid) runs before anything changes
   * and returns what the caller needs (the current user); if it throws UnauthenticatedError the
   * session ends for good.
   */
  rotate<T>(
    token: string,
    client: Client,
    authorize: (userId: string, sid: string) => Promise<T>,
  ): Promise<{ token: string; sid: string; value: T }>;
  /** renew gives a live session of the user a fresh refresh token issued after notBeforeMs (its
   * tokens were voided by a change the session itself made); null when the session has ended. */
  renew(userId: string, sid: string, notBeforeMs: number): Promise<string | null>;
  /** sessionOf names the live session of a refresh token, or null. */
  sessionOf(token: string): Promise<{ userId: string; sid: string } | null>;
  /** end ends one session of the user; NotFoundError when it isn't theirs or already ended. */
  end(userId: string, sid: string): Promise<void>;
  /** list returns the user's live sessions, most recently used first. */
  list(userId: string): Promise<SessionInfo[]>;
};

type TokenRecord = { userId: string; familyId: string; issuedAt: number };
type FamilyRecord = {
  userId: string;
  current: string;
  previous: string | null;
  rotatedAt: number | null;
  /** issuedAt is when the current token was issued: a revocation mark after it ends the session. */
  issuedAt: number;
  createdAt: number;
  lastUsedAt: number;
  userAgent: string;
  ip: string;
};

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding
const tokenKey = (hash: string) => `refresh:token:${hash}`;
// A family and the user's session index carry the user's hash tag, so on a Redis Cluster the index
// and its families are one slot: listing them is one MGET.
const familyKey = (userId: string) => (familyId: string) => `refresh:family:${userTag(userId)}:${familyId}`;
// The ids of a user's sessions (ended ones are pruned when it is next written).
const userSessionsKey = (userId: string) => `refresh:sessions:${userTag(userId)}`;
const sha256 = (token: string) => createHash("sha256").update(token).digest("base64url");
const invalid = () => new UnauthenticatedError("invalid refresh token");
// What the session list shows of a client: bounded, whatever a client sends.
const clip = (value: string, max: number) => (value.length > max ? value.slice(0, max) : value);

/** createRefreshTokens keeps sessions and their refresh tokens in the store (Redis or in-process). */
export function createRefreshTokens(options: RefreshTokenOptions): RefreshTokens {
  const { store, revocations, log } = options;
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlDays * 86_400;
  const graceMs = (options.graceSeconds ?? 10) * 1000;
  const maxSessions = options.maxSessions ?? 100;
  if (!(ttlSeconds > 0)) throw new RangeError(`ttlDays must be positive, got ${options.ttlDays}`);
  if (!(graceMs >= 0)) throw new RangeError(`graceSeconds must not be negative, got ${options.graceSeconds}`);
  // Domain-separated from the JWT signing use of the same secret.
  const derivationKey = createHmac("sha256", options.secret).update("bun-api-starter/refresh-token-rotation/v1").digest();
  const derive = (parent: string) => createHmac("sha256", derivationKey).update(parent).digest("base64url");

  // Anything but our format is refused without a store round trip, whatever its size.
  const findRecord = async (token: string): Promise<TokenRecord | null> =>
    typeof token === "string" && TOKEN_FORMAT.test(token) ? store.cache.get<TokenRecord>(tokenKey(sha256(token))) : null;

  const isLive = async (familyId: string, family: FamilyRecord): Promise<boolean> =>
    !(await revocations.sessionEnded({ sid: familyId, userId: family.userId, issuedAtMs: family.issuedAt }));

  async function lock(name: string) {
    try {
      return await store.locks.acquire(name, { ttlSeconds: 5, retries: 500, retryDelayMs: 2 });
    } catch (error) {
      if (error instanceof LockTimeoutError) throw new ResourceExhaustedError("this session is being changed, retry shortly", 1);
      throw error;
    }
  }

  async function endFamily(userId: string, familyId: string) {
    await revocations.endSession(userId, familyId);
    await store.cache.delete(familyKey(userId)(familyId));
  }

  // Adds a session to the user's list, dropping ended ones and ending the oldest beyond maxSessions.
  async function remember(userId: string, familyId: string) {
    await using _lock = await lock(`refresh-user:${userId}`);
    const ids = (await store.cache.get<string[]>(userSessionsKey(userId))) ?? [];
    const families = ids.length ? await store.cache.getMany<FamilyRecord>(ids.map(familyKey(userId))) : [];
    const live = ids.filter((_, i) => families[i] != null);
    live.push(familyId);
    for (const old of live.splice(0, Math.max(0, live.length - maxSessions))) await endFamily(userId, old);
    await store.cache.set(userSessionsKey(userId), live, ttlSeconds);
  }

  return {
    ttlSeconds,

    async start(userId, client) {
      const token = randomBytes(32).toString("base64url");
      const familyId = crypto.randomUUID();
      const hash = sha256(token);
      const at = now();
      const family: FamilyRecord = {
        userId,
        current: hash,
        previous: null,
        rotatedAt: null,
        issuedAt: at,
        createdAt: at,
        lastUsedAt: at,
        userAgent: clip(client.userAgent, 256),
        ip: clip(client.ip, 64),
      };
      await Promise.all([
        store.cache.set(familyKey(userId)(familyId), family, ttlSeconds),
        store.cache.set(tokenKey(hash), { userId, familyId, issuedAt: at } satisfies TokenRecord, ttlSeconds),
      ]);
      await remember(userId, familyId);
      return { sid: familyId, token };
    },

    async rotate(token, client, authorize) {
      const record = await findRecord(token);
      if (!record) throw invalid();
      const { userId, familyId } = record;
      if (await revocations.sessionEnded({ sid: familyId, userId, issuedAtMs: record.issuedAt })) throw invalid();
      let value: Awaited<ReturnType<typeof authorize>>;
      try {
        value = await authorize(userId, familyId);
      } catch (error) {
        if (error instanceof UnauthenticatedError) await endFamily(userId, familyId);
        throw error;
      }

      const hash = sha256(token);
      const child = derive(token);
      const childHash = sha256(child);
      await using _lock = await lock(`refresh:${familyId}`);
      const family = await store.cache.get<FamilyRecord>(familyKey(userId)(familyId));
      if (!family || !(await isLive(familyId, family))) throw new UnauthenticatedError("refresh token has been revoked");

      if (family.current === hash) {
        // The child's record first: if we stop half-way, the parent is still current and a retry
        // derives and writes the same child again. The family write is the commit point.
        const at = now();
        await store.cache.set(tokenKey(childHash), { userId, familyId, issuedAt: at } satisfies TokenRecord, ttlSeconds);
        const next: FamilyRecord = {
          ...family,
          current: childHash,
          previous: hash,
          rotatedAt: at,
          issuedAt: at,
          lastUsedAt: at,
          ip: client.ip ? clip(client.ip, 64) : family.ip,
          userAgent: client.userAgent ? clip(client.userAgent, 256) : family.userAgent,
        };
        await store.cache.set(familyKey(userId)(familyId), next, ttlSeconds);
        return { token: child, sid: familyId, value };
      }
      const justRotated =
        family.previous === hash && family.current === childHash && family.rotatedAt !== null && now() - family.rotatedAt < graceMs;
      if (justRotated) return { token: child, sid: familyId, value };

      await endFamily(userId, familyId);
      log?.warn("refresh token reuse detected: session ended", { userId, sessionId: familyId });
      throw new UnauthenticatedError("refresh token was already used: the session has been revoked, sign in again");
    },

    async renew(userId, sid, notBeforeMs) {
      if (!SESSION_ID.test(sid)) return null;
      await using _lock = await lock(`refresh:${sid}`);
      const family = await store.cache.get<FamilyRecord>(familyKey(userId)(sid));
      if (family?.userId !== userId) return null;
      // Issued strictly after the mark that voided the session's tokens, so the mark spares it.
      await pastMark(notBeforeMs, now);
      if (await revocations.sessionEnded({ sid, userId, issuedAtMs: now() })) return null;
      const token = randomBytes(32).toString("base64url");
      const hash = sha256(token);
      const at = now();
      await store.cache.set(tokenKey(hash), { userId, familyId: sid, issuedAt: at } satisfies TokenRecord, ttlSeconds);
      await store.cache.set(
        familyKey(userId)(sid),
        { ...family, current: hash, previous: null, rotatedAt: null, issuedAt: at, lastUsedAt: at } satisfies FamilyRecord,
        ttlSeconds,
      );
      await store.cache.delete(tokenKey(family.current));
      return token;
    },

    async sessionOf(token) {
      const record = await findRecord(token);
      if (!record) return null;
      if (await revocations.sessionEnded({ sid: record.familyId, userId: record.userId, issuedAtMs: record.issuedAt })) return null;
      return { userId: record.userId, sid: record.familyId };
    },

    async end(userId, sid) {
      const family = SESSION_ID.test(sid) ? await store.cache.get<FamilyRecord>(familyKey(userId)(sid)) : null;
      if (!family || family.userId !== userId || !(await isLive(sid, family))) throw new NotFoundError(`no active session ${sid}`);
      await endFamily(userId, sid);
    },

    async list(userId) {
      const ids = (await store.cache.get<string[]>(userSessionsKey(userId))) ?? [];
      if (ids.length === 0) return [];
      const families = await store.cache.getMany<FamilyRecord>(ids.map(familyKey(userId)));
      const found = ids.flatMap((id, i) => {
        const family = families[i];
        return family && family.userId === userId ? [{ id, family }] : [];
      });
      // Every found session's marks in one round trip.
      const ended = await revocations.sessionsEnded(
        userId,
        found.map(({ id, family }) => ({ sid: id, issuedAtMs: family.issuedAt })),
      );
      const sessions: SessionInfo[] = found
        .filter((_, i) => !ended[i])
        .map(({ id, family: { createdAt, lastUsedAt, userAgent, ip } }) => ({ id, createdAt, lastUsedAt, userAgent, ip }));
      return sessions.sort((a, b) => b.lastUsedAt - a.lastUsedAt);
    },
  };
}
