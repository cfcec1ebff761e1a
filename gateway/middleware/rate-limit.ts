// Fixed-window rate limits per client network (an IPv4 address, an IPv6 /64 by default) and route
// group, counted in the store (Redis).
// Headers: X-RateLimit-Limit / -Remaining (the reference's) and the IETF RateLimit-Policy /
// RateLimit fields. When the store is down the gateway fails closed: deny, with Retry-After.
// With a bearer token, the same round trip reads what authenticate needs (prefetchKeys), so an
// authenticated request costs one round trip; a denied hit reads nothing.
import type { MiddlewareHandler } from "hono";
import { type AddressPrefixes, addressKeys, DEFAULT_ADDRESS_PREFIXES } from "../../lib/client-address.ts";
import { metrics } from "../../lib/metrics/metrics.ts";
import { counterSeries } from "../../lib/metrics/series.ts";
import type { RateLimitResult, Store } from "../../lib/redis/types.ts";
import { ProblemError } from "../problem.ts";
import { prefetchKeys } from "./authenticate.ts";

export type RateLimitPolicy = {
  name: string;
  max: number;
  windowSeconds: number;
  /** prefixes say how much of the client address is one client; DEFAULT_ADDRESS_PREFIXES when unset. */
  prefixes?: AddressPrefixes;
};

// The reference's answer when the limiter itself is unavailable.
const UNAVAILABLE_RETRY_AFTER = 60;

const NO_KEYS: string[] = [];

/** rateLimit counts each request of the group against policy, keyed by the network of c.var.clientIp
 * (addressKey), and sets c.var.prefetch for a bearer token. */
export function rateLimit(store: Store, policy: RateLimitPolicy): MiddlewareHandler {
  const policyHeader = `"${policy.name}";q=${policy.max};w=${policy.windowSeconds}`;
  const decided = {
    allowed: counterSeries(metrics.rateLimitDecisions, policy.name, "allowed"),
    denied: counterSeries(metrics.rateLimitDecisions, policy.name, "denied"),
    unavailable: counterSeries(metrics.rateLimitDecisions, policy.name, "unavailable"),
  };
  const networkOf = addressKeys(policy.prefixes ?? DEFAULT_ADDRESS_PREFIXES);
  const limit = String(policy.max);
  const state = (remaining: number, resetSeconds: number) => `"${policy.name}";r=${remaining};t=${resetSeconds}`;
  return async function rateLimit(c, next) {
    const key = `${policy.name}:${networkOf(c.get("clientIp"))}`;
    const prefetch = prefetchKeys(c.req.header("authorization"));
    let result: (RateLimitResult & { values: (string | null)[] }) | undefined;
    try {
      result = await store.rateLimit.checkAndGet(key, policy.max, policy.windowSeconds, prefetch?.keys ?? NO_KEYS);
    } catch {
      // the store is down: denied below
    }
    if (!result) {
      decided.unavailable.inc();
      throw new ProblemError(429, "rate limiting is unavailable, so the request was denied; retry later", {
        headers: {
          "Retry-After": String(UNAVAILABLE_RETRY_AFTER),
          "X-RateLimit-Limit": limit,
          "X-RateLimit-Remaining": "0",
          "RateLimit-Policy": policyHeader,
          RateLimit: state(0, UNAVAILABLE_RETRY_AFTER),
        },
      });
    }
    const remaining = String(result.remaining);
    const current = state(result.remaining, result.resetSeconds);
    if (!result.allowed) {
      decided.denied.inc();
      throw new ProblemError(
        429,
        `too many requests: at most ${policy.max} per ${policy.windowSeconds} s; retry after ${result.resetSeconds} s`,
        {
          headers: {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": remaining,
            "RateLimit-Policy": policyHeader,
            RateLimit: current,
            "Retry-After": String(Math.max(1, result.resetSeconds)),
          },
        },
      );
    }
    decided.allowed.inc();
    if (prefetch) {
      prefetch.values = result.values;
      c.set("prefetch", prefetch);
    }
    await next();
    const headers = c.res.headers;
    headers.set("X-RateLimit-Limit", limit);
    headers.set("X-RateLimit-Remaining", remaining);
    headers.set("RateLimit-Policy", policyHeader);
    headers.set("RateLimit", current);
  };
}
