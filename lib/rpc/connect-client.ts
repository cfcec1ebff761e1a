// The calling side of the internal hop: the Connect protocol, unary calls in binary protobuf over
// Bun's fetch (HTTP/1.1, keep-alive). Streaming calls go through connect's own Connect transport
// on the same fetch. connect-web's transport costs ≈ 60 µs of CPU per unary call on Bun (async
// iterables, linked AbortControllers); this one ≈ the fetch itself (BENCHMARKS.md).
//
// Connections: Bun's fetch keeps HTTP/1.1 connections alive and reuses them per host, with at most
// BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests in flight per process; further calls queue.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  type Interceptor,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createFetchClient } from "@connectrpc/connect/protocol";
import {
  codeFromHttpStatus,
  contentTypeUnaryProto,
  createTransport,
  errorFromJsonBytes,
  parseContentType,
} from "@connectrpc/connect/protocol-connect";
import { callSignal, chain } from "./unary-call.ts";

export type ConnectClientOptions = {
  /** timeoutMs is the deadline of calls that set none (connect's defaultTimeoutMs). */
  timeoutMs?: number;
  interceptors?: Interceptor[];
};

const TRAILER = "trailer-";

/**
 * createConnectClientTransport calls a Connect server at baseUrl. A refused, reset or dropped
 * connection is Unavailable; the deadline is DeadlineExceeded; the caller's abort is Canceled.
 */
export function createConnectClientTransport(baseUrl: string, options: ConnectClientOptions = {}): Transport {
  const base = baseUrl.replace(/\/+$/, "");
  const interceptors = options.interceptors ?? [];
  const defaultTimeoutMs = options.timeoutMs;
  const streams = createTransport({
    httpClient: createFetchClient(fetch),
    baseUrl: base,
    useBinaryFormat: true,
    interceptors,
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: 0,
    readMaxBytes: 0xffffffff,
    writeMaxBytes: 0xffffffff,
    defaultTimeoutMs,
  });
  const send = chain(async (req) => {
    const { method, signal } = req as UnaryRequest;
    let response: Response;
    try {
      response = await fetch(req.url, {
        method: "POST",
        headers: req.header,
        body: toBinary(method.input, (req as UnaryRequest).message),
        signal,
      });
    } catch (error) {
      throw lost(error, signal, req.url);
    }
    const bytes = await response.bytes().catch((error: unknown) => {
      throw lost(error, signal, req.url);
    });
    // Connect sends a unary call's trailers as `trailer-` headers (connect's trailerDemux).
    const header = new Headers();
    const trailer = new Headers();
    response.headers.forEach((value, key) => {
      if (key.startsWith(TRAILER)) trailer.append(key.slice(TRAILER.length), value);
      else header.append(key, value);
    });
    const type = header.get("content-type");
    if (response.status !== 200) {
      const fallback = new ConnectError(`HTTP ${response.status}`, codeFromHttpStatus(response.status), header);
      if (parseContentType(type)?.binary !== false) throw fallback;
      const metadata = new Headers(header);
      trailer.forEach((value, key) => {
        metadata.append(key, value);
      });
      throw errorFromJsonBytes(bytes, metadata, fallback);
    }
    if (type !== contentTypeUnaryProto) {
      throw new ConnectError(`unsupported content type ${type}`, parseContentType(type) ? Code.Internal : Code.Unknown, header);
    }
    let message: unknown;
    try {
      message = fromBinary(method.output, bytes);
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
    }
    return { stream: false, service: method.parent, method, header, trailer, message } as UnaryResponse;
  }, interceptors);

  return {
    unary(method, callerSignal, timeoutMs, callHeader, input, contextValues) {
      // As connect's transports: undefined takes the default, zero or less means none.
      const deadline = timeoutMs === undefined ? defaultTimeoutMs : timeoutMs <= 0 ? undefined : timeoutMs;
      const { signal, cancel } = callSignal(callerSignal, deadline);
      const header = new Headers(callHeader);
      header.set("content-type", contentTypeUnaryProto);
      header.set("connect-protocol-version", "1");
      // Bun's fetch would offer gzip and decode it behind our back; the hop is loopback or a LAN.
      header.set("accept-encoding", "identity");
      if (deadline !== undefined) header.set("connect-timeout-ms", String(deadline));
      const request: UnaryRequest = {
        stream: false,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: `${base}/${method.parent.typeName}/${method.name}`,
        signal,
        header,
        contextValues: contextValues ?? createContextValues(),
        message: create(method.input, input) as UnaryRequest["message"],
      };
      return (send(request) as Promise<UnaryResponse>)
        .catch((error: unknown) => {
          // fetch rejects with the signal's reason; a plain abort() is the caller's cancellation.
          throw signal.aborted ? ConnectError.from(signal.reason, Code.Canceled) : ConnectError.from(error);
        })
        .finally(cancel) as Promise<UnaryResponse<typeof method.input, typeof method.output>>;
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      streams.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

/** lost turns a failed fetch into the caller's cancellation, its deadline, or Unavailable (the peer's failure). */
function lost(error: unknown, signal: AbortSignal, url: string): ConnectError {
  if (signal.aborted) return ConnectError.from(signal.reason, Code.Canceled);
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectError(`connection to ${url} failed: ${message}`, Code.Unavailable, undefined, undefined, error);
}
