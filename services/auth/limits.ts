// The auth service's own limits, enforced whoever calls (REST through the gateway, or gRPC
// straight to this port): sign-in and registration attempts per client network, and sign-in
// attempts per account, so credential stuffing from many addresses is limited too. The account
// counter counts every attempt up front (twenty parallel guesses can't all slip in before the
// first failure is counted) and a successful sign-in resets it; it is keyed by the normalized
// email, so it answers the same whether or not the account exists.
import { createHash } from "node:crypto";
import { type AddressPrefixes, addressKey } from "../../lib/client-address.ts";
import { RateLimitedError } from "../../lib/errors.ts";
import { metrics } from "../../lib/metrics/metrics.ts";
import type { Store } from "../../lib/redis/index.ts";

export type LimitOptions = {
  /** perAddress is the attempts a client network may make per window, for each of login and register. */
  perAddress: { max: number; windowSeconds: number };
  /** perAccount is the sign-in attempts one email may take per window. */
  perAccount: { max: number; windowSeconds: number };
  /** mail limits the mails a client can ask for (password reset, verification resend): per email and per client network. */
  mail: { perEmail: { max: number; windowSeconds: number }; perAddress: { max: number; windowSeconds: number } };
  prefixes: AddressPrefixes;
};

export type Limits = {
  /** register counts one registration from address; RateLimitedError when over the limit. */
  register(address: string): Promise<void>;
  /** signIn counts a sign-in or password check against both its network and its account (email);
   * RateLimitedError when either is over. */
  signIn(email: string, address: string): Promise<void>;
  /** succeeded forgets the account's attempts after a successful sign-in. */
  succeeded(email: string): Promise<void>;
  /** mail counts a request for a mail to email from address against both limits (whether or not
   * the account exists); RateLimitedError when either is over. */
  mail(email: string, address: string): Promise<void>;
};

// The email is hashed into the key: rate-limit keys show up in Redis tooling, emails shouldn't.
const emailDigest = (email: string) => createHash("sha256").update(email).digest("base64url");
const accountId = (email: string) => `login_account:${emailDigest(email)}`;

/** createLimits counts attempts in the store's fixed windows (Redis, or in-process). */
export function createLimits(store: Store, options: LimitOptions): Limits {
  const over = async (policy: string, id: string, limit: { max: number; windowSeconds: number }, what: string) => {
    const result = await store.rateLimit.check(id, limit.max, limit.windowSeconds).catch((error: unknown) => {
      metrics.rateLimitDecisions.inc({ policy, decision: "unavailable" });
      throw error; // CacheUnavailableError: Unavailable, the sign-in fails closed
    });
    metrics.rateLimitDecisions.inc({ policy, decision: result.allowed ? "allowed" : "denied" });
    if (!result.allowed) {
      const retryAfter = Math.max(1, result.resetSeconds);
      throw new RateLimitedError(
        `too many ${what}: at most ${limit.max} per ${limit.windowSeconds} s; retry after ${retryAfter} s`,
        retryAfter,
      );
    }
  };
  const address = (kind: "login" | "register" | "mail", client: string, limit = options.perAddress) =>
    over(
      `${kind}_address`,
      `${kind}_address:${addressKey(client || "unknown", options.prefixes)}`,
      limit,
      `${kind} attempts from this network`,
    );
  const account = (email: string) => over("login_account", accountId(email), options.perAccount, "sign-in attempts for this account");
  return {
    register: (client) => address("register", client),
    signIn: async (email, client) => {
      await Promise.all([address("login", client), account(email)]);
    },
    succeeded: (email) => store.rateLimit.reset(accountId(email)),
    mail: async (email, client) => {
      await Promise.all([
        address("mail", client, options.mail.perAddress),
        over("mail_email", `mail_email:${emailDigest(email)}`, options.mail.perEmail, "mails asked for this address"),
      ]);
    },
  };
}
