// grpc.health.v1 for every service binary: the serving-status map and the Check/Watch handlers over it.
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";

export { ServingStatus };

/** HealthStatus is the serving status of each service by name; "" is the whole server. */
export type HealthStatus = {
  get(service: string): ServingStatus | undefined;
  set(service: string, status: ServingStatus): void;
  setAll(status: ServingStatus): void;
  /** entries is a snapshot of every known service and its status. */
  entries(): [string, ServingStatus][];
  /** close ends every Watch stream (after it has sent the latest status). */
  close(): void;
  routes(router: ConnectRouter): void;
};

/**
 * createHealth creates the status map and the grpc.health.v1.Health service over it.
 * Every name in `services` (and "" for the whole server) starts as SERVING.
 */
export function createHealth(services: Iterable<string> = []): HealthStatus {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  for (const name of services) statuses.set(name, ServingStatus.SERVING);
  let closed = false;
  // One shared promise, replaced on every change, wakes all watchers without per-watcher
  // bookkeeping; a watcher that misses intermediate states still sends the latest one.
  let changed = Promise.withResolvers<void>();
  const notify = () => {
    changed.resolve();
    changed = Promise.withResolvers<void>();
  };

  const nextChange = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done);
      void changed.promise.then(done);
    });

  return {
    get: (service) => statuses.get(service),
    set(service, status) {
      if (statuses.get(service) === status) return;
      statuses.set(service, status);
      notify();
    },
    setAll(status) {
      for (const name of statuses.keys()) statuses.set(name, status);
      notify();
    },
    entries: () => [...statuses],
    close() {
      closed = true;
      notify();
    },
    routes(router) {
      router.service(Health, {
        check({ service }) {
          const status = statuses.get(service);
          // The gRPC health spec asks for NOT_FOUND, not a SERVICE_UNKNOWN answer, on Check.
          if (status === undefined) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
          return { status };
        },
        async *watch({ service }, ctx) {
          let sent: ServingStatus | undefined;
          for (;;) {
            const status = statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
            if (status !== sent) {
              yield { status };
              sent = status;
            }
            if (closed || ctx.signal.aborted) return;
            await nextChange(ctx.signal);
          }
        },
        list() {
          return { statuses: Object.fromEntries([...statuses].map(([name, status]) => [name, { status }])) };
        },
      });
    },
  };
}
