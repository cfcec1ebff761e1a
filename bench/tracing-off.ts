// What tracing costs when it is off, measured directly: with no endpoint nothing is installed (the
// gateway adds no middleware, no SDK is loaded), and what remains on a GET /users/me is the
// instrumentation asking whether to trace — the Redis command wrapper once per command (one
// command per request) and the logger once per line (none at LOG_LEVEL=warn; counted anyway).
import { trace } from "@opentelemetry/api";
import { activeTraceIds, tracingEnabled } from "../lib/tracing/tracing.ts";

/** tracingOffNsPerRequest times the off path's checks for one request, in nanoseconds. */
export function tracingOffNsPerRequest(iterations = 5_000_000): number {
  let traced = 0;
  const start = Bun.nanoseconds();
  for (let i = 0; i < iterations; i++) {
    if (tracingEnabled() && trace.getActiveSpan()) traced++; // the Redis command wrapper
    if (activeTraceIds()) traced++; // a log line
  }
  const elapsed = Bun.nanoseconds() - start;
  if (traced !== 0) throw new Error("tracing is on in the bench process itself");
  return elapsed / iterations;
}
