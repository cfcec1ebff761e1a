// Single-use tokens for the links mailed by the account flows (password reset, email verification,
// email change). A token is 256 random bits; the store keeps only its SHA-256, under
// `one_time_token:<purpose>:<hash>` with the purpose's TTL, and a take reads and deletes it in one
// atomic step (GETDEL), so a token works once even when two requests race with it. Tokens are
// never logged; records hold ids and addresses only.
import { createHash, randomBytes } from "node:crypto";
import type { Store } from "../../lib/redis/index.ts";

export type Purpose = "password_reset" | "email_verification" | "email_change";

export type TokenRecord = {
  purpose: Purpose;
  userId: string;
  /** email is the address the link was mailed for (the current one; for an email change, the old one). */
  email: string;
  /** newEmail is where an email change goes. */
  newEmail?: string;
  /** passwordFingerprint ties a reset token to the password it replaces: any password change voids it. */
  passwordFingerprint?: string;
};

export type OneTimeTokens = {
  /** issue stores a record and answers the token (base64url, 43 characters) that takes it. */
  issue(record: TokenRecord): Promise<string>;
  /** take answers the record of a live token for one of purposes, deleting it; null for an unknown, used or expired one. */
  take(token: string, purposes: Purpose[]): Promise<TokenRecord | null>;
};

/** TokenTtls are how long each purpose's token lives, in seconds. */
export type TokenTtls = Record<Purpose, number>;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const digest = (value: string) => createHash("sha256").update(value).digest("base64url");
const key = (purpose: Purpose, token: string) => `one_time_token:${purpose}:${digest(token)}`;

/** passwordFingerprint is a short digest of a password hash (never the hash itself in a token record). */
export const passwordFingerprint = (passwordHash: string) => digest(`reset:${passwordHash}`).slice(0, 22);

/** createOneTimeTokens keeps tokens in the store (Redis, or in-process). */
export function createOneTimeTokens(store: Store, ttls: TokenTtls): OneTimeTokens {
  return {
    async issue(record) {
      const token = randomBytes(32).toString("base64url");
      await store.cache.set(key(record.purpose, token), record, ttls[record.purpose]);
      return token;
    },
    async take(token, purposes) {
      if (!TOKEN.test(token)) return null;
      const records = await Promise.all(purposes.map((purpose) => store.cache.take<TokenRecord>(key(purpose, token))));
      return records.find((record) => record !== null) ?? null;
    },
  };
}
