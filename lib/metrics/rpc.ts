// RPC RED metrics: one interceptor for both sides of a call (the server's edge, a client's
// transport, and both ends of an in-process call), labelled by service, method and code name.
import type { Interceptor } from "@connectrpc/connect";
import type { Counter, Histogram } from "prom-client";
import { observed } from "../rpc/observe.ts";
import { metrics } from "./metrics.ts";

type Series = { count: { inc(): void }; duration: { observe(seconds: number): void } };

/** rpcMetrics counts and times every call on one side; the outermost interceptor, so it sees mapped codes. */
export function rpcMetrics(side: "server" | "client"): Interceptor {
  const count: Counter<"service" | "method" | "code"> = side === "server" ? metrics.rpcServerRequests : metrics.rpcClientRequests;
  const duration: Histogram<"service" | "method" | "code"> = side === "server" ? metrics.rpcServerDuration : metrics.rpcClientDuration;
  // Children by label values: prom-client hashes the labels on every call otherwise.
  const children = new Map<string, Series>();
  const series = (service: string, method: string, code: string): Series => {
    const key = `${service}/${method}/${code}`;
    let found = children.get(key);
    if (!found) {
      found = { count: count.labels(service, method, code), duration: duration.labels(service, method, code) };
      children.set(key, found);
    }
    return found;
  };
  return (next) => (req) =>
    observed(
      () => next(req),
      (code, seconds) => {
        const s = series(req.service.typeName, req.method.name, code);
        s.count.inc();
        s.duration.observe(seconds);
      },
    );
}
