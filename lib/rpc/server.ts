// The RPC server every service binary runs: gRPC, gRPC-Web and Connect on one h2c/HTTP/1.1 port, with health and reflection.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import { ServerReflection as ServerReflectionAlpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { startConnectListener, type ConnectListener } from "./connect-listener.ts";
import { answerAtDeadline, capDeadline } from "./deadline.ts";
import { createHealth, ServingStatus, type HealthStatus } from "./health.ts";
import { rpcMetrics } from "../metrics/rpc.ts";
import { traceServer } from "../tracing/rpc.ts";
import { peerKey } from "./peer.ts";
import { acceptRequestId } from "./request-id.ts";
import { reflectionRoutes } from "./reflection.ts";
import { PortInUseError } from "../listen.ts";

export type RpcServerOptions = {
  host: string;
  /** port 0 picks a free port; read the actual one from the result. */
  port: number;
  /**
   * internalPort, when set, also serves Connect and gRPC-Web (no native gRPC) on a Bun.serve port
   * of the same host: the cheap hop for the gateway and the auth service (connect-listener.ts).
   */
  internalPort?: number;
  routes: (router: ConnectRouter) => void;
  /** services are listed by reflection and start SERVING in health. */
  services: DescService[];
  /** readMaxBytes limits one request message; default 1 MiB. */
  readMaxBytes?: number;
  /** maxTimeoutMs caps every call's deadline, and is the deadline of unary calls without one; default 30 s. */
  maxTimeoutMs?: number;
  /** shutdownTimeoutMs is how long close() waits for in-flight calls; default 10 s. */
  shutdownTimeoutMs?: number;
  /** pages answer plain GETs by path on the internal port (a metrics scrape). */
  pages?: Record<string, (request: Request) => Response | Promise<Response>>;
  /** interceptors wrap every handler, inside the one that enforces deadlines. */
  interceptors?: Interceptor[];
  log?: (message: string, fields?: Record<string, unknown>) => void;
};

export type RpcServer = {
  port: number;
  url: string;
  /** internalUrl is the internal listener's, when there is one. */
  internalUrl?: string;
  health: HealthStatus;
  close(): Promise<void>;
};

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
// A connection that sends nothing is dropped rather than held open forever.
const SNIFF_TIMEOUT_MS = 10_000;
const CANCEL_GRACE_MS = 1000;
const QUIET_ERRORS = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_DESTROYED"]);

/**
 * startRpcServer serves `routes`, grpc.health.v1 and gRPC reflection on one port: gRPC and
 * Connect over h2c, Connect and gRPC-Web over HTTP/1.1.
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { host, routes, services } = options;
  const maxTimeoutMs = options.maxTimeoutMs ?? 30_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const log = options.log ?? ((message, fields) => console.error(message, fields ?? ""));
  const logError = (where: string) => (err: NodeJS.ErrnoException) => {
    if (!QUIET_ERRORS.has(err.code ?? "")) log(`rpc server: ${where} error`, { error: err.message, code: err.code });
  };

  const health = createHealth(services.map((s) => s.typeName));
  const shutdown = new AbortController();
  const allRoutes = (router: ConnectRouter) => {
    routes(router);
    health.routes(router);
    reflectionRoutes([...services, Health])(router);
  };
  const readMaxBytes = options.readMaxBytes ?? 1024 * 1024;
  const interceptors = [answerAtDeadline, rpcMetrics("server"), acceptRequestId, traceServer, ...(options.interceptors ?? [])];
  const handler = connectNodeAdapter({
    routes: allRoutes,
    readMaxBytes,
    maxTimeoutMs,
    shutdownSignal: shutdown.signal,
    interceptors,
    contextValues: (req) => createContextValues().set(peerKey, req.socket.remoteAddress ?? ""),
  });

  // Streams without a deadline stay open (see capDeadline), so tell them apart by path.
  const streaming = new Set(
    [...services, Health, ServerReflection, ServerReflectionAlpha].flatMap((s) =>
      s.methods.filter((m) => m.methodKind !== "unary").map((m) => `/${s.typeName}/${m.name}`),
    ),
  );

  // Connections, in-flight calls and h2 sessions, so close() knows what to wait for.
  let closing = false;
  const sockets = new Set<net.Socket>();
  const h2Sockets = new WeakSet<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const checkDrained = () => {
    if (inFlight === 0 && sessions.size === 0) drained?.();
  };
  const busySockets = new Map<net.Socket, number>();
  const track = (socket: net.Socket | undefined, delta: number) => {
    inFlight += delta;
    if (socket) busySockets.set(socket, (busySockets.get(socket) ?? 0) + delta);
    if (socket && busySockets.get(socket) === 0) {
      busySockets.delete(socket);
      if (closing) socket.end(); // a keep-alive HTTP/1.1 socket we no longer want
    }
    checkDrained();
  };
  const serve = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
    h1Socket?: net.Socket,
  ) => {
    track(h1Socket, 1);
    res.once("close", () => track(h1Socket, -1));
    if (closing && res instanceof http.ServerResponse) res.setHeader("Connection", "close");
    capDeadline(req.headers, !streaming.has(req.url?.split("?", 1)[0] ?? ""), maxTimeoutMs);
    handler(req, res);
  };

  const h1Server = http.createServer((req, res) => serve(req, res, req.socket));
  h1Server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    logError("http/1.1 client")(err);
    socket.destroy();
  });
  const h2Server = http2.createServer((req, res) => serve(req, res));
  h2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => {
      sessions.delete(session);
      checkDrained();
    });
    session.on("error", logError("http/2 session"));
  });
  h2Server.on("sessionError", logError("http/2 session"));

  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Without a listener a reset from a bad client would be an uncaught exception.
    socket.on("error", logError("socket"));
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const isH2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && n < PREFACE.length) return; // a prefix of the preface: wait for the rest
      socket.off("data", sniff);
      socket.setTimeout(0);
      if (closing) return void socket.destroy();
      socket.pause();
      socket.unshift(head);
      if (isH2) h2Sockets.add(socket);
      (isH2 ? h2Server : h1Server).emit("connection", socket);
      socket.resume();
    };
    socket.on("data", sniff);
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new PortInUseError(host, options.port, { cause: err }) : err),
    );
    listener.listen(options.port, host, () => resolve());
  });
  listener.on("error", logError("listener"));
  const port = (listener.address() as net.AddressInfo).port;
  let internal: ConnectListener | undefined;
  try {
    internal =
      options.internalPort === undefined
        ? undefined
        : startConnectListener({
            host,
            port: options.internalPort,
            routes: allRoutes,
            interceptors,
            readMaxBytes,
            maxTimeoutMs,
            shutdownSignal: shutdown.signal,
            streaming,
            onCall: (delta) => track(undefined, delta),
            onError: (error) => logError("internal listener")(error as NodeJS.ErrnoException),
            pages: options.pages,
          });
  } catch (error) {
    await new Promise((resolve) => listener.close(resolve));
    throw error;
  }

  const drain = (ms: number) =>
    inFlight === 0 && sessions.size === 0
      ? Promise.resolve(true)
      : Promise.race([
          new Promise<boolean>((resolve) => (drained = () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref()),
        ]);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      health.setAll(ServingStatus.NOT_SERVING);
      health.close(); // ends Watch streams, which would otherwise hold the drain open
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
      const internalStopped = internal?.stop(false); // no new connections; idle ones close
      for (const session of sessions) session.close(); // GOAWAY; running streams may finish
      // Idle keep-alive and still-silent sockets go now; h2 sockets close with their session.
      for (const socket of sockets) if (!busySockets.has(socket) && !h2Sockets.has(socket)) socket.destroy();
      if (!(await drain(shutdownTimeoutMs))) {
        log("rpc server: shutdown timeout, cancelling calls", { inFlight });
        shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
        // Cancelled calls answer Unavailable at once. Destroying first would lose that answer,
        // and Bun's http2 client reports such a torn-down stream as a clean close (rstCode 0),
        // so connect-node would wait for its own deadline.
        await drain(CANCEL_GRACE_MS);
      }
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await internal?.stop(true);
      await Promise.all([stopped, internalStopped]);
    })();
    return closed;
  };

  return { port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, internalUrl: internal?.url, health, close };
}
