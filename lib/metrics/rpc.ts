// RPC RED metrics: one interceptor for both sides of a call (the server's edge, a client's
// transport, and both ends of an in-process call), labelled by service, method and code name.
import type { Interceptor } from "@connectrpc/connect";
import { observed } from "../rpc/observe.ts";
import { metrics, seriesOf } from "./metrics.ts";
import { counterSeries, histogramSeries } from "./series.ts";

/** rpcMetrics counts and times every call on one side; the outermost interceptor, so it sees mapped codes. */
export function rpcMetrics(side: "server" | "client"): Interceptor {
  const [count, duration] =
    side === "server" ? [metrics.rpcServerRequests, metrics.rpcServerDuration] : [metrics.rpcClientRequests, metrics.rpcClientDuration];
  const series = seriesOf((service, method, code) => ({
    count: counterSeries(count, service, method, code),
    duration: histogramSeries(duration, service, method, code),
  }));
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
