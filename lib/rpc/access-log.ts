// One debug-level log line per RPC a service answers: service, method, code and duration, plus the
// request id and trace ids every line written inside a call carries (lib/log.ts). Off at the
// default level (info), where it costs one comparison.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "../log.ts";

/** rpcAccessLog logs each answered call at debug level; place it outside errorInterceptor to see mapped codes. */
export function rpcAccessLog(log: Logger): Interceptor {
  return (next) => async (req) => {
    const start = performance.now();
    let code = "ok";
    try {
      return await next(req);
    } catch (error) {
      code = codeToString(ConnectError.from(error).code ?? Code.Unknown);
      throw error;
    } finally {
      log.debug("rpc", {
        service: req.service.typeName,
        method: req.method.name,
        code,
        duration_ms: Math.round((performance.now() - start) * 100) / 100,
      });
    }
  };
}
