// The pieces of a unary call that connect keeps private, for the paths that skip its per-call
// machinery: in-process calls (in-process.ts) and the internal Connect listener (connect-unary.ts).
// Both run the same server interceptors around the same MethodImplSpec as connect's handlers do.
import { create, type DescMethod, type DescMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createMethodImplSpec,
  createServiceImplSpec,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";

export type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;

/** unarySpecs records the unary implementations `routes` registers, by method, instead of mounting HTTP handlers. */
export function unarySpecs(routes: (router: ConnectRouter) => void): Map<DescMethod, UnarySpec> {
  const unary = new Map<DescMethod, UnarySpec>();
  const record = (spec: MethodImplSpec) => {
    if (spec.kind === "unary") unary.set(spec.method, spec);
  };
  const recorder: ConnectRouter = {
    handlers: [],
    service(service, implementation) {
      for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) record(spec);
      return recorder;
    },
    rpc(method, implementation) {
      record(createMethodImplSpec(method, implementation));
      return recorder;
    },
  };
  routes(recorder);
  return unary;
}

type Next = Parameters<Interceptor>[0];

/** chain wraps next in the interceptors, the first outermost (connect's own applyInterceptors isn't exported). */
export const chain = (next: Next, interceptors: Interceptor[]): Next =>
  interceptors.reduceRight((inner, interceptor) => interceptor(inner), next);

/**
 * serveUnary runs the server interceptors around the implementation, as connect's
 * invokeUnaryImplementation does: the request carries the context's header, signal and values,
 * and the implementation sees what the interceptors passed on. The response's header and
 * trailer are the context's own objects unless an interceptor replaced them.
 */
export function serveUnary(
  spec: UnarySpec,
  context: HandlerContext,
  message: unknown,
  interceptors: Interceptor[],
): Promise<UnaryResponse<DescMessage, DescMessage>> {
  const { method } = spec;
  const service = method.parent;
  const run = chain(async (req) => {
    const inner = req as UnaryRequest;
    const output = await spec.impl(inner.message, handlerContext(context, inner));
    return {
      stream: false,
      service,
      method,
      header: context.responseHeader,
      trailer: context.responseTrailer,
      message: create(method.output, output),
    } as UnaryResponse;
  }, interceptors);
  // signal and url are read through: a context may make them only when asked (connect-unary.ts).
  const request: UnaryRequest = {
    stream: false,
    service,
    method: spec.method,
    requestMethod: context.requestMethod,
    get url() {
      return context.url;
    },
    get signal() {
      return context.signal;
    },
    header: context.requestHeader,
    contextValues: context.values,
    message: message as UnaryRequest["message"],
  };
  try {
    return run(request) as Promise<UnaryResponse<DescMessage, DescMessage>>;
  } catch (error) {
    return Promise.reject(error); // an interceptor that throws before its first await
  }
}

/** handlerContext is what the implementation sees: the context, with what the interceptors passed
 * on (header, values, signal); signal and url are read only when the implementation reads them. */
function handlerContext(context: HandlerContext, req: UnaryRequest): HandlerContext {
  return {
    service: context.service,
    method: context.method,
    protocolName: context.protocolName,
    requestMethod: context.requestMethod,
    timeoutMs: context.timeoutMs,
    requestHeader: req.header,
    responseHeader: context.responseHeader,
    responseTrailer: context.responseTrailer,
    values: req.contextValues,
    get url() {
      return context.url;
    },
    get signal() {
      return req.signal;
    },
  };
}

// A signal that never aborts, shared by every call that has neither a caller's signal nor a deadline.
export const NEVER = new AbortController().signal;

/** callSignal is the caller's signal, the deadline's, both, or NEVER; cancel stops the timer. */
export function callSignal(caller: AbortSignal | undefined, timeoutMs: number | undefined) {
  if (timeoutMs === undefined) return { signal: caller ?? NEVER, cancel: () => {}, deadlineMs: undefined };
  const controller = new AbortController();
  const expire = () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  if (timeoutMs <= 0) expire();
  const timer = timeoutMs <= 0 ? undefined : setTimeout(expire, timeoutMs);
  const signal = caller ? AbortSignal.any([caller, controller.signal]) : controller.signal;
  return { signal, cancel: () => clearTimeout(timer), deadlineMs: Date.now() + timeoutMs };
}

/** whenAborted rejects with the signal's reason once it aborts; stop removes the listener (a
 * caller's signal may outlive many calls). */
export function whenAborted(signal: AbortSignal): { promise: Promise<never>; stop: () => void } {
  let stop = () => {};
  const promise = new Promise<never>((_, reject) => {
    const fail = () =>
      reject(signal.reason instanceof ConnectError ? signal.reason : new ConnectError("the call was canceled", Code.Canceled));
    if (signal.aborted) return fail();
    signal.addEventListener("abort", fail, { once: true });
    stop = () => signal.removeEventListener("abort", fail);
  });
  return { promise, stop };
}
