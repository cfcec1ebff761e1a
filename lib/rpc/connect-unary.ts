// The internal hop's fast path: unary Connect-protocol calls in binary protobuf (POST,
// `application/proto`, uncompressed) answered straight from the MethodImplSpec, under the same
// server interceptors as connect's handlers. connect's universal handler spends ≈ 95 µs of CPU per
// call on Bun (async iterables, four AbortControllers, header copies); this path does what the
// Connect protocol asks and no more (BENCHMARKS.md). Anything else (JSON, GET, compression,
// streams, gRPC-Web) returns undefined, for connect's own handlers to answer.
// connect-unary.test.ts compares the two answer for answer.
import type { DescMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type UnaryResponse,
} from "@connectrpc/connect";
import { mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import { decodeBinary, encodeBinary } from "./binary.ts";
import { answerAtDeadline } from "./deadline.ts";
import type { Http1Answer, Http1Request } from "./http1-server.ts";
import { peerKey } from "./peer.ts";
import { serveUnary, unarySpecs, type UnarySpec } from "./unary-call.ts";

export type ConnectUnaryOptions = {
  routes: (router: ConnectRouter) => void;
  /** interceptors are the server's, in the order connect's handlers run them. */
  interceptors: Interceptor[];
  readMaxBytes: number;
  /** maxTimeoutMs is the deadline of calls without one, and lowers longer ones (as capDeadline does). */
  maxTimeoutMs: number;
  /** shutdownSignal cancels calls still running when the server gives up waiting for them. */
  shutdownSignal: AbortSignal;
};

// How often calls are checked against their deadline: a call ends within this much after it.
const SWEEP_MS = 5;

/** ConnectUnaryHandler answers a unary binary Connect call, or returns undefined for connect's handlers to answer. */
export type ConnectUnaryHandler = (request: Http1Request) => Promise<Http1Answer> | undefined;

/** createConnectUnaryHandler serves the unary methods `routes` registers, for Connect binary calls only. */
export function createConnectUnaryHandler(options: ConnectUnaryOptions): ConnectUnaryHandler {
  const { interceptors, readMaxBytes, maxTimeoutMs, shutdownSignal } = options;
  const byPath = new Map<string, UnarySpec>();
  for (const [method, spec] of unarySpecs(options.routes)) byPath.set(`/${method.parent.typeName}/${method.name}`, spec);
  // answerAtDeadline's work is done here, without its promise and listener per call: any abort
  // (the deadline, shutdown, the client gone) answers at once with its reason.
  const chained = interceptors.filter((interceptor) => interceptor !== answerAtDeadline);
  // Calls in flight and their deadlines, for shutdown to cancel (one listener in all) and for one
  // timer to end at their deadline (a timer per call costs more than the whole sweep).
  const running = new Map<(reason: unknown) => void, number>();
  shutdownSignal.addEventListener("abort", () => {
    for (const cancel of running.keys()) cancel(shutdownSignal.reason);
  });
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweep = () => {
    const now = Date.now();
    for (const [cancel, deadlineMs] of running) {
      if (deadlineMs <= now) cancel(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    }
    if (running.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  function answer(spec: UnarySpec, request: Http1Request): Promise<Http1Answer> {
    const { method } = spec;
    const requestHeader = request.headers;
    const responseHeader = new Headers();
    const responseTrailer = new Headers();
    const raw = requestHeader.get("connect-timeout-ms");
    const timeout = raw === null ? undefined : parseTimeout(raw, Number.MAX_SAFE_INTEGER);
    const timeoutMs = Math.min(timeout?.timeoutMs ?? maxTimeoutMs, maxTimeoutMs);
    const deadlineMs = Date.now() + timeoutMs;
    const { promise, resolve } = Promise.withResolvers<Http1Answer>();

    // One signal for the deadline, the client going away and shutdown, made only when something
    // reads it (the services' unary methods don't): a call that ends before then never has one.
    // connect also aborts it when a call succeeds; that costs an event per call, so here only a
    // failed call aborts it (with its error, as connect does).
    let controller: AbortController | undefined;
    let abortedWith: { reason: unknown } | undefined;
    const abort = (reason: unknown) => {
      if (abortedWith) return;
      abortedWith = { reason };
      controller?.abort(reason);
    };
    let settled = false;
    const settle = (response: UnaryResponse<DescMessage, DescMessage> | undefined, failure?: unknown) => {
      if (settled) return;
      settled = true;
      request.onAbort = undefined;
      running.delete(cancel);
      let status = 200;
      let header = responseHeader;
      let trailer = responseTrailer;
      let body: Uint8Array | undefined;
      if (response) {
        header = response.header;
        trailer = response.trailer;
        try {
          body = encodeBinary(method.output, response.message);
          header.set("content-type", contentTypeUnaryProto);
        } catch (e) {
          failure = e;
        }
      }
      if (body === undefined) {
        const error =
          failure instanceof ConnectError ? failure : new ConnectError("internal error", Code.Internal, undefined, undefined, failure);
        abort(error);
        status = codeToHttpStatus(error.code);
        header.set("content-type", contentTypeUnaryJson);
        if (!error.isWireError) mergeNonProtocolHeaders(header, error.metadata);
        body = errorToJsonBytes(error, {});
      }
      // Connect carries unary trailers as `trailer-` headers (connect's trailerMux, without its copy).
      trailer.forEach((value, key) => {
        header.append(`trailer-${key}`, value);
      });
      resolve({ status, headers: header, body });
    };
    const cancel = (reason: unknown) => {
      abort(reason);
      settle(undefined, ConnectError.from(reason));
    };
    request.onAbort = () => cancel(new ConnectError("operation was aborted via signal", Code.Aborted));
    running.set(cancel, deadlineMs);
    sweeper ??= setInterval(sweep, SWEEP_MS).unref();
    if (shutdownSignal.aborted) cancel(shutdownSignal.reason);

    const context: HandlerContext = {
      service: method.parent,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      get url() {
        return `http://${requestHeader.get("host") ?? "internal"}${request.target}`;
      },
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (abortedWith) controller.abort(abortedWith.reason);
        }
        return controller.signal;
      },
      timeoutMs: () => deadlineMs - Date.now(),
      requestHeader,
      responseHeader,
      responseTrailer,
      values: createContextValues().set(peerKey, request.peer),
    };
    try {
      if (timeout?.error) throw timeout.error;
      if (request.tooLarge || request.body.length > readMaxBytes) {
        const size = request.tooLarge ? (requestHeader.get("content-length") ?? "more") : request.body.length;
        throw new ConnectError(`message size ${size} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
      }
      const input = parse(method.input, request.body);
      serveUnary(spec, context, input, chained).then(settle, (error: unknown) => settle(undefined, error));
    } catch (error) {
      settle(undefined, error);
    }
    return promise;
  }

  return (request) => {
    if (request.method !== "POST") return undefined;
    const target = request.target;
    const query = target.indexOf("?");
    const spec = byPath.get(query < 0 ? target : target.slice(0, query));
    if (!spec) return undefined;
    const header = request.headers;
    if (header.get("content-type") !== contentTypeUnaryProto) return undefined;
    const encoding = header.get("content-encoding");
    if (encoding !== null && encoding !== "identity") return undefined;
    return answer(spec, request);
  };
}

/**
 * parse decodes a request message. A body that isn't the method's message is the client's
 * mistake: InvalidArgument (HTTP 400), where connect-es answers Internal (HTTP 500); the one
 * deliberate difference from its handler.
 */
function parse(desc: DescMessage, bytes: Uint8Array) {
  try {
    return decodeBinary(desc, bytes);
  } catch (e) {
    throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
}
