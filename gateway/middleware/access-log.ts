// One JSON line per request: method, path (no query string), status, duration, request id, client
// address and user id. Never headers or bodies, so no token or password can reach the log.
import type { Context } from "hono";
import type { Logger } from "../../lib/log.ts";

/** accessLog writes a request's line once its answer is ready; undefined when info lines are off. */
export function accessLog(log: Logger): ((c: Context, startedAt: number) => void) | undefined {
  if (!log.enabled("info")) return undefined;
  return function accessLog(c, startedAt) {
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - startedAt) * 100) / 100,
      request_id: c.get("requestId"),
      client_ip: c.get("clientIp"),
      user_id: c.get("auth")?.sub,
    });
  };
}
