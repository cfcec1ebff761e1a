// inProcessTransport lets one process call a service's routes without a network hop (combined
// mode, tests), with the same error mapping as the real server and, optionally, its health service.
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../log.ts";
import { errorInterceptor } from "./errors.ts";
import type { HealthStatus } from "./health.ts";

export type InProcessOptions = {
  /** clientInterceptors run on the calling side, e.g. sendServiceToken. */
  clientInterceptors?: Interceptor[];
  /** health also routes grpc.health.v1 to this status map. */
  health?: HealthStatus;
  log?: Logger;
};

export function inProcessTransport(routes: (router: ConnectRouter) => void, options: InProcessOptions = {}) {
  return createRouterTransport(
    (router) => {
      routes(router);
      options.health?.routes(router);
    },
    {
      router: { interceptors: [errorInterceptor(options.log)] },
      transport: { interceptors: options.clientInterceptors ?? [] },
    },
  );
}
