// The gateway's server span: one per request, continuing a client's W3C traceparent when it sends
// one, named by method and route template, carrying the request id. The answer carries the span's
// own `traceparent`, so a client can find its request's trace. Installed only when tracing is on.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { headerGetter, headerSetter, tracer } from "../../lib/tracing/tracing.ts";
import { routeOf } from "./metrics.ts";

/** traceRequests wraps each request in a server span. */
export function traceRequests(): MiddlewareHandler {
  return async function traceRequests(c, next) {
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, headerGetter);
    const method = c.req.method;
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.path": c.req.path, "request.id": c.get("requestId") } },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    try {
      await context.with(ctx, next);
    } finally {
      const route = routeOf(c);
      span.updateName(`${method} ${route}`);
      span.setAttribute("http.route", route);
      span.setAttribute("http.response.status_code", c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      try {
        propagation.inject(ctx, c.res.headers, headerSetter); // traceparent (and the client's tracestate)
      } catch {
        // an immutable response (none of ours today): the span still ends
      }
      span.end();
    }
  };
}
