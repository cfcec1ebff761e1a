// Spans for RPCs on both sides, with W3C traceparent/tracestate carried in the call's metadata:
// the client span's context goes out, the server span continues it — over the network and on the
// in-process path alike. Off (no endpoint), both return at their first line.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Interceptor } from "@connectrpc/connect";
import { observed } from "../rpc/observe.ts";
import { REQUEST_ID_HEADER } from "../rpc/request-id.ts";
import { headerGetter, headerSetter, tracer, tracingEnabled } from "./tracing.ts";

const attributes = (service: string, method: string) => ({ "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method });

// The span ends with the call's code; anything but ok is an error on the span.
function traced<T>(span: ReturnType<typeof tracer.startSpan>, call: () => Promise<T>): Promise<T> {
  return observed(call, (code) => {
    span.setAttribute("rpc.connect_rpc.error_code", code);
    if (code !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.end();
  });
}

/** traceClient makes a client span per call and sends its context along. */
export const traceClient: Interceptor = (next) => (req) => {
  if (!tracingEnabled()) return next(req);
  const service = req.service.typeName;
  const span = tracer.startSpan(`${service}/${req.method.name}`, {
    kind: SpanKind.CLIENT,
    attributes: attributes(service, req.method.name),
  });
  const ctx = trace.setSpan(context.active(), span);
  propagation.inject(ctx, req.header, headerSetter);
  return traced(span, () => context.with(ctx, () => next(req)));
};

/** traceServer continues the caller's trace (or starts one) with a server span around the handler. */
export const traceServer: Interceptor = (next) => (req) => {
  if (!tracingEnabled()) return next(req);
  const service = req.service.typeName;
  const parent = propagation.extract(ROOT_CONTEXT, req.header, headerGetter);
  const span = tracer.startSpan(
    `${service}/${req.method.name}`,
    {
      kind: SpanKind.SERVER,
      attributes: { ...attributes(service, req.method.name), "request.id": req.header.get(REQUEST_ID_HEADER) ?? "" },
    },
    parent,
  );
  return traced(span, () => context.with(trace.setSpan(parent, span), () => next(req)));
};
