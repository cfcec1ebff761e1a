// Refresh tokens (RFC 9700 §4.14): opaque, 256 random bits, stored only as SHA-256 hashes, in
// families. Every use rotates: the presented token stops working and a new one joins its family.
// Presenting a rotated token again means it was copied, so the whole family is revoked — except
// the immediate parent within a short grace window, so two tabs refreshing at once don't log the
// user out. The child is derived from the parent (HMAC), so a parent presented again in the window
// gets the *same* child back: still one live member, and no plaintext is ever stored.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { LockTimeoutError, type Store } from "../../lib/redis/index.ts";
import { ResourceExhaustedError, UnauthenticatedError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { isUserRevoked } from "../../lib/tokens/revocation.ts";

export type RefreshTokenOptions = {
  store: Store;
  /** secret keys the parent → child derivation (JWT_SECRET; a separate key is derived from it). */
  secret: string;
  /** ttlDays is how long a token lives unused (REFRESH_TOKEN_TTL_DAYS). */
  ttlDays: number;
  /** graceSeconds is how long a just-rotated parent still yields its child; default 10, 0 disables. */
  graceSeconds?: number;
  log?: Logger;
  /** now is the clock in milliseconds; tests move it. */
  now?: () => number;
};

export type RefreshTokens = {
  readonly ttlSeconds: number;
  /** issue starts a new family (a new sign-in) for the user and returns its first token. */
  issue(userId: string): Promise<string>;
  /**
   * rotate exchanges a token for its successor. authorize(userId) runs before anything changes and
   * returns what the caller needs (the current user); if it throws UnauthenticatedError the family
   * is revoked for good.
   */
  rotate<T>(token: string, authorize: (userId: string) => Promise<T>): Promise<{ token: string; value: T }>;
  /** revoke ends the token's whole family; false when the token is unknown. */
  revoke(token: string): Promise<boolean>;
};

type TokenRecord = { userId: string; familyId: string; issuedAt: number };
type FamilyRecord = { userId: string; current: string; previous: string | null; rotatedAt: number | null };

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding
const tokenKey = (hash: string) => `refresh:token:${hash}`;
const familyKey = (familyId: string) => `refresh:family:${familyId}`;
const revokedKey = (familyId: string) => `refresh:revoked:${familyId}`;
const sha256 = (token: string) => createHash("sha256").update(token).digest("base64url");
const invalid = () => new UnauthenticatedError("invalid refresh token");

/** createRefreshTokens keeps refresh-token families in the store (Redis or in-process). */
export function createRefreshTokens(options: RefreshTokenOptions): RefreshTokens {
  const { store, log } = options;
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlDays * 86_400;
  const graceMs = (options.graceSeconds ?? 10) * 1000;
  if (!(ttlSeconds > 0)) throw new RangeError(`ttlDays must be positive, got ${options.ttlDays}`);
  if (!(graceMs >= 0)) throw new RangeError(`graceSeconds must not be negative, got ${options.graceSeconds}`);
  // Domain-separated from the JWT signing use of the same secret.
  const derivationKey = createHmac("sha256", options.secret).update("bun-api-starter/refresh-token-rotation/v1").digest();
  const derive = (parent: string) => createHmac("sha256", derivationKey).update(parent).digest("base64url");

  // Anything but our format is refused without a store round trip, whatever its size.
  const findRecord = async (token: string): Promise<TokenRecord | null> =>
    typeof token === "string" && TOKEN_FORMAT.test(token) ? store.cache.get<TokenRecord>(tokenKey(sha256(token))) : null;

  const revokeFamily = (familyId: string) => store.cache.set(revokedKey(familyId), 1, ttlSeconds);

  async function lockFamily(familyId: string) {
    try {
      return await store.locks.acquire(`refresh:${familyId}`, { ttlSeconds: 5, retries: 100, retryDelayMs: 10 });
    } catch (error) {
      if (error instanceof LockTimeoutError) throw new ResourceExhaustedError("this session is being refreshed, retry shortly", 1);
      throw error;
    }
  }

  return {
    ttlSeconds,

    async issue(userId) {
      const token = randomBytes(32).toString("base64url");
      const familyId = crypto.randomUUID();
      const hash = sha256(token);
      await Promise.all([
        store.cache.set(familyKey(familyId), { userId, current: hash, previous: null, rotatedAt: null } satisfies FamilyRecord, ttlSeconds),
        store.cache.set(tokenKey(hash), { userId, familyId, issuedAt: now() } satisfies TokenRecord, ttlSeconds),
      ]);
      return token;
    },

    async rotate(token, authorize) {
      const record = await findRecord(token);
      if (!record) throw invalid();
      const { userId, familyId } = record;
      if (await isUserRevoked(store, userId, record.issuedAt)) {
        await revokeFamily(familyId);
        throw invalid();
      }
      let value: Awaited<ReturnType<typeof authorize>>;
      try {
        value = await authorize(userId);
      } catch (error) {
        if (error instanceof UnauthenticatedError) await revokeFamily(familyId);
        throw error;
      }

      const hash = sha256(token);
      const child = derive(token);
      const childHash = sha256(child);
      await using _lock = await lockFamily(familyId);
      const [family, revoked] = (await store.cache.getMany<unknown>([familyKey(familyId), revokedKey(familyId)])) as [
        FamilyRecord | null,
        unknown,
      ];
      if (!family || revoked != null) throw new UnauthenticatedError("refresh token has been revoked");

      if (family.current === hash) {
        // The child's record first: if we stop half-way, the parent is still current and a retry
        // derives and writes the same child again. The family write is the commit point.
        const at = now();
        await store.cache.set(tokenKey(childHash), { userId, familyId, issuedAt: at } satisfies TokenRecord, ttlSeconds);
        await store.cache.set(
          familyKey(familyId),
          { userId, current: childHash, previous: hash, rotatedAt: at } satisfies FamilyRecord,
          ttlSeconds,
        );
        return { token: child, value };
      }
      const justRotated =
        family.previous === hash && family.current === childHash && family.rotatedAt !== null && now() - family.rotatedAt < graceMs;
      if (justRotated) return { token: child, value };

      await revokeFamily(familyId);
      log?.warn("refresh token reuse detected: family revoked", { userId, familyId });
      throw new UnauthenticatedError("refresh token was already used: the session has been revoked, sign in again");
    },

    async revoke(token) {
      const record = await findRecord(token);
      if (!record) return false;
      await revokeFamily(record.familyId);
      return true;
    },
  };
}
