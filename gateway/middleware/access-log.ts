// One JSON line per request: method, path (no query string), status, duration, request id, client
// address and user id. Never headers or bodies, so no token or password can reach the log.
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../lib/log.ts";

/** accessLog writes the line after the response is ready; with info lines off it does nothing per request. */
export function accessLog(log: Logger): MiddlewareHandler {
  if (!log.enabled("info")) return (_c, next) => next();
  return async function accessLog(c, next) {
    const start = performance.now();
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - start) * 100) / 100,
      request_id: c.get("requestId"),
      client_ip: c.get("clientIp"),
      user_id: c.get("auth")?.sub,
    });
  };
}
