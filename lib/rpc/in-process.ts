// inProcessTransport lets one process call a service's routes without a network hop (combined
// mode, tests), with the same error mapping as the real server and, optionally, its health service.
//
// Unary calls go straight to the implementation: the client's interceptors, then the server's
// (errorInterceptor), then the handler, on the same message objects. connect's
// createRouterTransport instead encodes each request and response to protobuf and runs them
// through its HTTP handler stack: a cached GetUser cost 60 µs of CPU that way and 16 µs this way
// (BENCHMARKS.md). Streaming calls (health Watch) still take the router path.
import {
  Code,
  ConnectError,
  createContextValues,
  createMethodImplSpec,
  createRouterTransport,
  createServiceImplSpec,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { create, type DescMessage, type DescMethod, type MessageInitShape } from "@bufbuild/protobuf";
import type { Logger } from "../log.ts";
import { type Caller, callerKey } from "./callers.ts";
import { errorInterceptor } from "./errors.ts";
import type { HealthStatus } from "./health.ts";

export type InProcessOptions = {
  /** caller names who calls (callers.ts): the service's authorizeCallers interceptor checks it like a credential. */
  caller?: Caller;
  /** interceptors run on the serving side after the error mapping, as on the service's own server. */
  interceptors?: Interceptor[];
  /** clientInterceptors run on the calling side. */
  clientInterceptors?: Interceptor[];
  /** health also routes grpc.health.v1 to this status map. */
  health?: HealthStatus;
  log?: Logger;
};

type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;

export function inProcessTransport(routes: (router: ConnectRouter) => void, options: InProcessOptions = {}): Transport {
  const register = (router: ConnectRouter) => {
    routes(router);
    options.health?.routes(router);
  };
  const serverInterceptors = [errorInterceptor(options.log), ...(options.interceptors ?? [])];
  const clientInterceptors = options.clientInterceptors ?? [];
  const viaRouter = createRouterTransport(register, {
    router: { interceptors: serverInterceptors },
    transport: { interceptors: clientInterceptors },
  });

  // The same routes, recorded as implementations by method instead of mounted as HTTP handlers.
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
  register(recorder);

  return {
    unary(method, signal, timeoutMs, header, input, contextValues) {
      const spec = unary.get(method);
      if (!spec) return viaRouter.unary(method, signal, timeoutMs, header, input, contextValues);
      const values = options.caller ? (contextValues ?? createContextValues()).set(callerKey, options.caller) : contextValues;
      return callUnary(
        spec,
        { signal, timeoutMs, header, input, contextValues: values },
        clientInterceptors,
        serverInterceptors,
      ) as Promise<UnaryResponse<typeof method.input, typeof method.output>>;
    },
    // connect's router transport doesn't hand context values to the server, so a stream carries no
    // caller: fine for health Watch (open), and a guarded streaming method would fail closed.
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      viaRouter.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

type Call = {
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  header: ConstructorParameters<typeof Headers>[0];
  input: unknown;
  contextValues: ContextValues | undefined;
};

// A signal that never aborts, shared by every call that has neither a caller's signal nor a deadline.
const NEVER = new AbortController().signal;

/**
 * callUnary runs client interceptors → server interceptors → implementation on the same objects.
 * It does what connect's runUnaryCall + createHandlerContext + invokeUnaryImplementation do, minus
 * what only a network call needs: an AbortController and a timer exist only when the caller gave a
 * signal or a deadline (connect made four AbortControllers, their listeners and a Date per call).
 * Unlike them it also fails the call at the deadline when the implementation ignores ctx.signal.
 */
function callUnary(
  spec: UnarySpec,
  call: Call,
  clientInterceptors: Interceptor[],
  serverInterceptors: Interceptor[],
): Promise<UnaryResponse<DescMessage, DescMessage>> {
  const { method } = spec;
  const service = method.parent;
  const url = `in-process:/${service.typeName}/${method.name}`;
  const { signal, cancel, deadlineMs } = callSignal(call.signal, call.timeoutMs);

  const serve = chain(async (req) => {
    const request = req as UnaryRequest;
    const context: HandlerContext = {
      service,
      method,
      protocolName: "in-process",
      requestMethod: "POST",
      url,
      signal: request.signal,
      timeoutMs: () => (deadlineMs === undefined ? undefined : deadlineMs - Date.now()),
      requestHeader: request.header,
      responseHeader: new Headers(),
      responseTrailer: new Headers(),
      values: request.contextValues,
    };
    const server = chain(async (inner) => {
      const output = await spec.impl((inner as UnaryRequest).message, {
        ...context,
        requestHeader: inner.header,
        signal: inner.signal,
        values: inner.contextValues,
      });
      return {
        stream: false,
        service,
        method,
        header: context.responseHeader,
        trailer: context.responseTrailer,
        message: create(method.output, output),
      } as UnaryResponse;
    }, serverInterceptors);
    return server(request);
  }, clientInterceptors);

  const request: UnaryRequest = {
    stream: false,
    service,
    method,
    requestMethod: "POST",
    url,
    signal,
    header: new Headers(call.header),
    contextValues: call.contextValues ?? createContextValues(),
    message: create(method.input, call.input as MessageInitShape<DescMessage>),
  };
  const response = serve(request) as Promise<UnaryResponse>;
  const abort = signal === NEVER ? undefined : whenAborted(signal);
  const settled = abort ? Promise.race([response, abort.promise]) : response;
  return settled
    .finally(() => {
      cancel();
      abort?.stop();
    })
    .catch((error: unknown) => {
      throw ConnectError.from(error);
    }) as Promise<UnaryResponse<DescMessage, DescMessage>>;
}

type Next = Parameters<Interceptor>[0];

/** chain wraps next in the interceptors, the first outermost (connect's own applyInterceptors isn't exported). */
const chain = (next: Next, interceptors: Interceptor[]): Next => interceptors.reduceRight((inner, interceptor) => interceptor(inner), next);

/** callSignal is the caller's signal, the deadline's, both, or NEVER; cancel stops the timer. */
function callSignal(caller: AbortSignal | undefined, timeoutMs: number | undefined) {
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
function whenAborted(signal: AbortSignal): { promise: Promise<never>; stop: () => void } {
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
