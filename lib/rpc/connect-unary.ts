// The internal hop's fast path: unary Connect-protocol calls in binary protobuf (POST,
// `application/proto`, uncompressed, with a content-length) answered straight from the
// MethodImplSpec, under the same server interceptors as connect's handlers. connect's universal
// handler spends ≈ 95 µs of CPU per call on Bun (async iterables, four AbortControllers, header
// copies); this path does what the Connect protocol asks and no more (BENCHMARKS.md). Anything
// else (JSON, GET, compression, chunked bodies, streams, gRPC-Web) returns undefined, for connect's
// own handlers to answer. connect-unary.test.ts compares the two answer for answer.
import { fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ConnectRouter, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
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

/** ConnectUnaryHandler answers a fast-path call, or returns undefined for connect's handlers to answer. */
/** ConnectUnaryHandler answers a unary Connect call, or undefined for the full handler; peer is the socket address. */
export type ConnectUnaryHandler = (request: Request, peer?: string) => Promise<Response> | undefined;

const PROTO_HEADERS = { "content-type": contentTypeUnaryProto };

/** createConnectUnaryHandler serves the unary methods `routes` registers, for Connect binary calls only. */
export function createConnectUnaryHandler(options: ConnectUnaryOptions): ConnectUnaryHandler {
  const { interceptors, readMaxBytes, maxTimeoutMs, shutdownSignal } = options;
  const byPath = new Map<string, UnarySpec>();
  for (const [method, spec] of unarySpecs(options.routes)) byPath.set(`/${method.parent.typeName}/${method.name}`, spec);
  // Calls in flight, for shutdown to cancel: one listener in all rather than one per call.
  const running = new Set<AbortController>();
  shutdownSignal.addEventListener("abort", () => {
    for (const controller of running) controller.abort(shutdownSignal.reason);
  });

  async function answer(spec: UnarySpec, request: Request, url: string, length: number, peer: string): Promise<Response> {
    const { method } = spec;
    const requestHeader = request.headers;
    const responseHeader = new Headers(PROTO_HEADERS);
    const responseTrailer = new Headers();
    const raw = requestHeader.get("connect-timeout-ms");
    const timeout = raw === null ? undefined : parseTimeout(raw, Number.MAX_SAFE_INTEGER);
    const timeoutMs = Math.min(timeout?.timeoutMs ?? maxTimeoutMs, maxTimeoutMs);
    const deadlineMs = Date.now() + timeoutMs;

    // One controller for the deadline, the client going away and shutdown. connect also aborts it
    // when a call succeeds; that costs an event and, through answerAtDeadline's listener, a
    // ConnectError per call, so here only a failed call aborts it (with its error, as connect does).
    const controller = new AbortController();
    const abort = (reason?: unknown) => controller.abort(reason);
    const onRequestAbort = () => abort(new ConnectError("operation was aborted via signal", Code.Aborted));
    const timer = setTimeout(expire, timeoutMs, controller);
    request.signal.addEventListener("abort", onRequestAbort);
    running.add(controller);
    if (shutdownSignal.aborted) abort(shutdownSignal.reason);

    const context: HandlerContext = {
      service: method.parent,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url,
      signal: controller.signal,
      timeoutMs: () => deadlineMs - Date.now(),
      requestHeader,
      responseHeader,
      responseTrailer,
      values: createContextValues().set(peerKey, peer),
    };
    let status = 200;
    let body: Uint8Array;
    let header = responseHeader;
    let trailer = responseTrailer;
    try {
      if (timeout?.error) throw timeout.error;
      if (length > readMaxBytes) {
        throw new ConnectError(`message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
      }
      const input = parse(method.input, await request.bytes());
      const response = await serveUnary(spec, context, input, interceptors);
      header = response.header;
      trailer = response.trailer;
      body = toBinary(method.output, response.message);
    } catch (e) {
      const error = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      abort(error);
      status = codeToHttpStatus(error.code);
      header.set("content-type", contentTypeUnaryJson);
      if (!error.isWireError) mergeNonProtocolHeaders(header, error.metadata);
      body = errorToJsonBytes(error, {});
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onRequestAbort);
      running.delete(controller);
    }
    // Connect carries unary trailers as `trailer-` headers (connect's trailerMux, without its copy).
    trailer.forEach((value, key) => {
      header.append(`trailer-${key}`, value);
    });
    return new Response(body, { status, headers: header });
  }

  return (request, peer = "") => {
    if (request.method !== "POST") return undefined;
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const query = url.indexOf("?", start);
    const spec = byPath.get(query < 0 ? url.slice(start) : url.slice(start, query));
    if (!spec) return undefined;
    const header = request.headers;
    if (header.get("content-type") !== contentTypeUnaryProto) return undefined;
    const encoding = header.get("content-encoding");
    if (encoding !== null && encoding !== "identity") return undefined;
    const length = header.get("content-length");
    if (length === null || !/^\d{1,15}$/.test(length)) return undefined;
    return answer(spec, request, url, Number(length), peer);
  };
}

const expire = (controller: AbortController) => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));

/**
 * parse decodes a request message. A body that isn't the method's message is the client's
 * mistake: InvalidArgument (HTTP 400), where connect-es answers Internal (HTTP 500); the one
 * deliberate difference from its handler.
 */
function parse(desc: DescMessage, bytes: Uint8Array) {
  try {
    return fromBinary(desc, bytes);
  } catch (e) {
    throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
}
