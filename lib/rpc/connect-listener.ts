// The internal listener: a Bun.serve port speaking the Connect protocol and gRPC-Web over
// HTTP/1.1, for the gateway and the auth service. Unary binary Connect calls take the fast path
// (connect-unary.ts); everything else is connect's own universal handlers on Bun's fetch API.
// Native gRPC needs HTTP/2 trailers, which Bun.serve can't send: it stays on the service port
// (server.ts), where connect-node serves it over node:http2.
import { createConnectRouter, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { uResponseNotFound, universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { PortInUseError } from "../listen.ts";
import { createConnectUnaryHandler } from "./connect-unary.ts";
import { deadlineCap } from "./deadline.ts";
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
  /** pages answer plain GETs by path beside the RPCs (a metrics scrape). */
  pages?: Record<string, (request: Request) => Response | Promise<Response>>;
};

export type ConnectListener = { port: number; url: string; stop(force: boolean): Promise<void> };

/** startConnectListener serves `routes` over Connect and gRPC-Web on a Bun.serve port. */
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

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.host,
      port: options.port,
      // Bun's own limit would answer a bare 413 (Unknown to a Connect client). readMaxBytes is
      // enforced per call instead, before or while the body is read, as a Connect error.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      async fetch(request, server) {
        onCall(1);
        try {
          const peer = server.requestIP(request)?.address ?? "";
          const path = request.method === "GET" ? new URL(request.url).pathname : "";
          const page = pages.get(path);
          if (page) return await page(request);
          return await (fast(request, peer) ?? viaConnect(request, new URL(request.url).pathname, peer));
        } finally {
          onCall(-1);
        }
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUseError(options.host, options.port, { cause: error });
    throw error;
  }
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { port: server.port ?? options.port, url: `http://${host}:${server.port}`, stop: (force) => server.stop(force) };
}
