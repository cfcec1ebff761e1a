// Password hashing: Argon2id at OWASP's parameters, a bounded number at a time so a login flood
// queues briefly and then fails fast (ResourceExhausted → 503 + Retry-After at the gateway)
// instead of starving every other request of CPU.
import pLimit from "p-limit";
import { ResourceExhaustedError } from "../../lib/errors.ts";
import { metrics } from "../../lib/metrics/metrics.ts";
import { THREADS, threadHasher } from "./argon2-threads.ts";

/** OWASP_ARGON2ID is OWASP's Argon2id recommendation: 19 MiB, 2 iterations, 1 lane. */
export const OWASP_ARGON2ID = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;

export type Argon2Params = { algorithm: "argon2id"; memoryCost: number; timeCost: number };

/** Hasher is the primitive underneath (Bun.password on the Argon2id threads); tests swap it to observe or gate it. */
export type Hasher = {
  hash(password: string, params: Argon2Params): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
};

export type Passwords = {
  /** hash returns an Argon2id PHC string. */
  hash(password: string): Promise<string>;
  /**
   * verify runs exactly one Argon2id verification whatever storedHash is: a missing or malformed
   * hash is replaced by the dummy hash (and the answer is false), so the time taken doesn't tell
   * an unknown account from a wrong password.
   */
  verify(password: string, storedHash: string | null): Promise<boolean>;
  /** dummyHash is the hash verified in place of a missing one (same parameters as real hashes). */
  readonly dummyHash: string;
};

export type PasswordOptions = {
  params?: Argon2Params;
  /** concurrency is how many hashes run at once; default the core count (the Argon2id threads). */
  concurrency?: number;
  /** maxWaitMs is how long a hash may wait for a slot before ResourceExhausted; default 1500. */
  maxWaitMs?: number;
  /** maxQueue is how many may wait at all; beyond it the answer is immediate. Default 64 per slot. */
  maxQueue?: number;
  /** retryAfterSeconds is what a refused caller is told; default 1. */
  retryAfterSeconds?: number;
  hasher?: Hasher;
};

// A PHC string Bun can verify: anything else would fail fast and reveal that the account is odd.
const ARGON2_PHC = /^\$argon2(id|i|d)\$v=19\$m=\d{1,7},t=\d{1,3},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;

/** createPasswords computes the dummy hash once (at startup), then hashes and verifies with a bound. */
export async function createPasswords(options: PasswordOptions = {}): Promise<Passwords> {
  const params = options.params ?? OWASP_ARGON2ID;
  const hasher = options.hasher ?? threadHasher;
  const concurrency = options.concurrency ?? THREADS;
  const maxWaitMs = options.maxWaitMs ?? 1500;
  const maxQueue = options.maxQueue ?? concurrency * 64;
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);

  const limit = pLimit(concurrency);
  const busy = () => new ResourceExhaustedError("too many password checks in progress, retry shortly", retryAfterSeconds);

  const queued = () => metrics.argon2QueueDepth.set(limit.pendingCount);
  const timed = { hash: metrics.argon2Duration.labels("hash"), verify: metrics.argon2Duration.labels("verify") };

  function bounded<T>(operation: "hash" | "verify", work: () => Promise<T>): Promise<T> {
    if (limit.pendingCount >= maxQueue) return Promise.reject(busy());
    return new Promise<T>((resolve, reject) => {
      let gaveUp = false;
      const timer = setTimeout(() => {
        gaveUp = true;
        reject(busy());
      }, maxWaitMs);
      void limit(async () => {
        queued();
        if (gaveUp) return; // its caller already had its answer: free the slot at once
        clearTimeout(timer);
        const end = timed[operation].startTimer();
        await work().then(resolve, reject);
        end();
      });
      queued();
    });
  }

  const dummyHash = await hasher.hash(crypto.randomUUID(), params);

  return {
    dummyHash,
    hash: (password) => bounded("hash", () => hasher.hash(password, params)),
    verify: (password, storedHash) =>
      bounded("verify", async () => {
        const usable = storedHash !== null && ARGON2_PHC.test(storedHash);
        try {
          const ok = await hasher.verify(password, usable ? storedHash : dummyHash);
          return usable && ok;
        } catch {
          // Well-formed on the surface but not decodable: still pay for one verification, then fail
          // like any wrong password (never a 500).
          await hasher.verify(password, dummyHash).catch(() => false);
          return false;
        }
      }),
  };
}
