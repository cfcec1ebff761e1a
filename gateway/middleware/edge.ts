// What every request gets, in one middleware layer: its id (request-id.ts) and client address
// (client-ip.ts), the request context its log lines and RPCs carry (lib/request-context.ts); then,
// on its answer — errors and 404s included, which hono has made into answers by then — the security
// headers (security-headers.ts), the HTTP metrics (metrics.ts) and the access line (access-log.ts).
// With tracing on, the request's server span (tracing.ts) wraps all but the id and the address.
//
// As six hono middlewares these cost six turns of hono's compose, each an async dispatch and an
// await: ≈ 0.5 µs of CPU apiece under load, ≈ 6 % of GET /users/me (BENCHMARKS.md). Here they are
// plain functions called in a fixed order.
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../../lib/log.ts";
import { withRequest } from "../../lib/request-context.ts";
import { accessLog } from "./access-log.ts";
import { clientIp } from "./client-ip.ts";
import { httpMetrics } from "./metrics.ts";
import { requestIdOf } from "./request-id.ts";
import { addSecurityHeaders } from "./security-headers.ts";

/** edge sets c.var.requestId and c.var.clientIp and answers with X-Request-Id and the security
 * headers. trace, when tracing is on, wraps the rest of the request — the access line included, so
 * that it carries the trace id — in its server span (tracing.ts). */
export function edge(options: { trustedProxies: string[]; log: Logger; trace?: MiddlewareHandler }): MiddlewareHandler {
  const addressOf = clientIp(options.trustedProxies);
  const record = httpMetrics();
  const logLine = accessLog(options.log);
  const { trace } = options;

  /** answered finishes an answer: its headers, its metrics, its access line. */
  function answered(c: Context, requestId: string, startedAt: number) {
    // Set on the answer, not beforehand with c.header: hono would then build a Headers for the
    // request and copy it into the answer.
    const headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
    addSecurityHeaders(headers);
    record(c, startedAt);
    logLine?.(c, startedAt);
  }

  return async function edge(c, next) {
    const startedAt = performance.now();
    const requestId = requestIdOf(c);
    c.set("requestId", requestId);
    c.set("clientIp", addressOf(c));
    if (!trace) {
      await withRequest({ requestId }, next);
      return answered(c, requestId, startedAt);
    }
    await withRequest({ requestId }, () =>
      trace(c, async () => {
        await next();
        answered(c, requestId, startedAt);
      }),
    );
  };
}
