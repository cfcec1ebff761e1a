// What every request gets, in one middleware layer: its id (request-id.ts) and client address
// (client-ip.ts), the request context its log lines and RPCs carry (lib/request-context.ts); then,
// on its answer — errors and 404s included, which hono has made into answers by then — the security
// headers (security-headers.ts), the HTTP metrics (metrics.ts) and the access line (access-log.ts).
//
// As six hono middlewares these cost six turns of hono's compose, each an async dispatch and an
// await: ≈ 0.5 µs of CPU apiece under load, ≈ 6 % of GET /users/me (BENCHMARKS.md). Here they are
// plain functions called in a fixed order.
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../lib/log.ts";
import { withRequest } from "../../lib/request-context.ts";
import { accessLog } from "./access-log.ts";
import { clientIp } from "./client-ip.ts";
import { httpMetrics } from "./metrics.ts";
import { requestIdOf } from "./request-id.ts";
import { addSecurityHeaders } from "./security-headers.ts";

/** edge sets c.var.requestId and c.var.clientIp and answers with X-Request-Id and the security headers. */
export function edge(options: { trustedProxies: string[]; log: Logger }): MiddlewareHandler {
  const addressOf = clientIp(options.trustedProxies);
  const record = httpMetrics();
  const logLine = accessLog(options.log);
  return async function edge(c, next) {
    const startedAt = performance.now();
    const requestId = requestIdOf(c);
    c.set("requestId", requestId);
    c.set("clientIp", addressOf(c));
    await withRequest({ requestId }, next);
    // Set on the answer, not beforehand with c.header: hono would then build a Headers for the
    // request and copy it into the answer.
    const headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
    addSecurityHeaders(headers);
    record(c, startedAt);
    logLine?.(c, startedAt);
  };
}
