// One debug-level log line per RPC a service answers: service, method, code and duration, plus the
// request id and trace ids every line written inside a call carries (lib/log.ts). Off at the
// default level (info), where it costs one call and no timing.
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "../log.ts";
import { observed } from "./observe.ts";

/** rpcAccessLog logs each answered call at debug level; place it outside errorInterceptor to see mapped codes. */
export function rpcAccessLog(log: Logger): Interceptor {
  if (!log.enabled("debug")) return (next) => next;
  return (next) => (req) =>
    observed(
      () => next(req),
      (code, seconds) =>
        log.debug("rpc", { service: req.service.typeName, method: req.method.name, code, duration_ms: Math.round(seconds * 1e5) / 100 }),
    );
}
