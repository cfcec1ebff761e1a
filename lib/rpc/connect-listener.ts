// The internal listener: an HTTP/1.1 port (http1-server.ts: keep-alive, pipelining) speaking the
// Connect protocol and gRPC-Web, for the gateway and the auth service. Unary binary Connect calls
// take the fast path (connect-unary.ts); everything else is connect's own universal handlers, on
// fetch API objects built for them. Native gRPC needs HTTP/2 trailers: it stays on the service
// port (server.ts), where connect-node serves it over node:http2.
import { Code, ConnectError, createConnectRouter, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { uResponseNotFound, universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, contentTypeUnaryJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { createConnectUnaryHandler } from "./connect-unary.ts";
import { deadlineCap } from "./deadline.ts";
import { type Http1Answer, type Http1Request, startHttp1Server } from "./http1-server.ts";
import { peerKey } from "./peer.ts";
export type ConnectListenerOptions = {
  host: string;
  /** port 0 picks a free port; read the actual one from the result. */
  port: number;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  readMaxBytes: number;
  maxTimeoutMs: number;
  shutdownSignal: AbortSignal;
  /** streaming is the set of request paths of streaming methods, which keep no deadline (capDeadline). */
  streaming: Set<string>;
  /** onCall is told when a call starts (+1) and when it is answered (-1), so close() can wait for it. */
  onCall: (delta: 1 | -1) => void;
  /** onError hears about failures no caller sees (a handler that threw outside connect, a lost answer). */
  onError?: (error: unknown) => void;
  /** pages answer plain GETs by path beside the RPCs (a metrics scrape). */
  pages?: Record<string, (request: Request) => Response | Promise<Response>>;
};

export type ConnectListener = { port: number; url: string; stop(force: boolean): Promise<void> };

/** startConnectListener serves `routes` over Connect and gRPC-Web on an HTTP/1.1 port. */
export function startConnectListener(options: ConnectListenerOptions): ConnectListener {
  const { interceptors, readMaxBytes, maxTimeoutMs, shutdownSignal, streaming, onCall } = options;
  const fast = createConnectUnaryHandler({ routes: options.routes, interceptors, readMaxBytes, maxTimeoutMs, shutdownSignal });
  const router = createConnectRouter({
    interceptors,
    readMaxBytes,
    maxTimeoutMs,
    shutdownSignal,
    acceptCompression: [compressionGzip, compressionBrotli], // as connectNodeAdapter on the service port
    grpc: false, // no trailers: a gRPC client gets 415 here and belongs on the service port
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const pages = new Map(Object.entries(options.pages ?? {}));

  // connect's createFetchHandler, plus the peer address in the call's context values.
  const viaConnect = async (request: Request, path: string, peer: string) => {
    const handler = paths.get(path);
    if (!handler) return new Response(null, { status: uResponseNotFound.status });
    const cap = deadlineCap(request.headers, !streaming.has(path), maxTimeoutMs);
    if (cap) request.headers.set(cap.name, cap.value);
    const universal = universalServerRequestFromFetch(request, {});
    universal.contextValues = createContextValues().set(peerKey, peer);
    return universalServerResponseToFetch(await handler(universal));
  };

  let origin = "";
  const server = startHttp1Server({
    host: options.host,
    port: options.port,
    // A longer body isn't kept: the fast path and tooLarge below answer ResourceExhausted.
    maxBodyBytes: readMaxBytes,
    onCall,
    onError: options.onError,
    handler(request) {
      const answer = fast(request);
      if (answer !== undefined) return answer;
      const query = request.target.indexOf("?");
      const path = query < 0 ? request.target : request.target.slice(0, query);
      if (request.tooLarge) return tooLarge(request);
      const fetchRequest = toFetch(request, origin);
      const page = request.method === "GET" ? pages.get(path) : undefined;
      return page ? page(fetchRequest) : viaConnect(fetchRequest, path, request.peer);
    },
  });
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  origin = `http://${host}:${server.port}`;
  return {
    port: server.port,
    url: origin,
    stop: async (force) => server.stop(force),
  };
}

/** toFetch makes a fetch API Request for connect's handlers; its signal aborts when the client goes away. */
function toFetch(request: Http1Request, origin: string): Request {
  const controller = new AbortController();
  request.onAbort = (reason) => controller.abort(reason);
  const bodyless = request.method === "GET" || request.method === "HEAD";
  return new Request(`${origin}${request.target}`, {
    method: request.method,
    headers: request.headers,
    body: bodyless ? undefined : request.body,
    signal: controller.signal,
  });
}

/** tooLarge answers a body over readMaxBytes that the fast path didn't take, in the caller's protocol. */
function tooLarge(request: Http1Request): Http1Answer {
  const error = new ConnectError(`message is larger than configured readMaxBytes`, Code.ResourceExhausted);
  if (request.headers.get("content-type")?.startsWith("application/grpc-web")) {
    // gRPC-Web: a trailers-only answer.
    const headers = new Headers({ "content-type": "application/grpc-web+proto", "grpc-status": String(error.code) });
    headers.set("grpc-message", encodeURIComponent(error.rawMessage));
    return { status: 200, headers, body: new Uint8Array(0) };
  }
  return {
    status: codeToHttpStatus(error.code),
    headers: new Headers({ "content-type": contentTypeUnaryJson }),
    body: errorToJsonBytes(error, {}),
  };
}
