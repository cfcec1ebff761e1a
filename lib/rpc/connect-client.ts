// The calling side of the internal hop: the Connect protocol, unary calls in binary protobuf over
// HTTP/1.1 with keep-alive and pipelining (http1-client.ts; https URLs use Bun's fetch). Streaming
// calls go through connect's own Connect transport on fetch. connect-web's transport costs ≈ 60 µs
// of CPU per unary call on Bun (async iterables, linked AbortControllers), and fetch itself ≈ 20 µs
// more than the pipelined client (BENCHMARKS.md).
import { create } from "@bufbuild/protobuf";
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
import { decodeBinary, encodeBinary } from "./binary.ts";
import { ConnectionLost, createHttp1Client, DeadlineReached } from "./http1-client.ts";
import { callSignal, chain, NEVER } from "./unary-call.ts";

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
  const url = new URL(base);
  const http1 = url.protocol === "http:" ? createHttp1Client(url.hostname.replace(/^\[|\]$/g, ""), Number(url.port || 80)) : undefined;
  const prefix = url.pathname.replace(/\/+$/, "");

  /** post sends one call and gives the answer's status, header fields and body. */
  async function post(
    req: UnaryRequest,
    body: Uint8Array,
  ): Promise<{ status: number; fields: Iterable<[string, string]>; bytes: Uint8Array }> {
    const { signal } = req;
    if (http1) {
      try {
        const target = `${prefix}/${req.service.typeName}/${req.method.name}`;
        // Without a caller's signal the deadline is the client's to keep (no timer per call).
        const timeout = signal === NEVER ? req.header.get("connect-timeout-ms") : null;
        const answer = await http1.send(target, req.header, body, {
          signal: signal === NEVER ? undefined : signal,
          timeoutMs: timeout === null ? undefined : Number(timeout),
        });
        return { status: answer.status, fields: answer.headers, bytes: answer.body };
      } catch (error) {
        if (error instanceof ConnectionLost) throw lost(error, signal, req.url);
        if (error instanceof DeadlineReached) throw new ConnectError(error.message, Code.DeadlineExceeded);
        throw error; // the signal's reason
      }
    }
    let response: Response;
    try {
      response = await fetch(req.url, { method: "POST", headers: req.header, body, signal });
    } catch (error) {
      throw lost(error, signal, req.url);
    }
    const bytes = await response.bytes().catch((error: unknown) => {
      throw lost(error, signal, req.url);
    });
    return { status: response.status, fields: response.headers, bytes };
  }

  const send = chain(async (req) => {
    const { method } = req as UnaryRequest;
    const { status, fields, bytes } = await post(req as UnaryRequest, encodeBinary(method.input, (req as UnaryRequest).message));
    if (status !== 200) {
      const { header, trailer } = demux(fields);
      const type = header.get("content-type");
      const fallback = new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), header);
      if (parseContentType(type)?.binary !== false) throw fallback;
      const metadata = new Headers(header);
      trailer.forEach((value, key) => {
        metadata.append(key, value);
      });
      throw errorFromJsonBytes(bytes, metadata, fallback);
    }
    // Read as Headers.get would (names are lower-cased; repeated fields joined).
    let type: string | undefined;
    for (const [key, value] of fields) if (key === "content-type") type = type === undefined ? value : `${type}, ${value}`;
    if (type !== contentTypeUnaryProto) {
      throw new ConnectError(
        `unsupported content type ${type}`,
        parseContentType(type ?? null) ? Code.Internal : Code.Unknown,
        demux(fields).header,
      );
    }
    let message: unknown;
    try {
      message = decodeBinary(method.output, bytes);
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
    }
    // The answer's header and trailer are built when first read: most callers never read them.
    let demuxed: { header: Headers; trailer: Headers } | undefined;
    return {
      stream: false,
      service: method.parent,
      method,
      message,
      get header() {
        demuxed ??= demux(fields);
        return demuxed.header;
      },
      get trailer() {
        demuxed ??= demux(fields);
        return demuxed.trailer;
      },
    } as UnaryResponse;
  }, interceptors);

  return {
    unary(method, callerSignal, timeoutMs, callHeader, input, contextValues) {
      // As connect's transports: undefined takes the default, zero or less means none.
      const deadline = timeoutMs === undefined ? defaultTimeoutMs : timeoutMs <= 0 ? undefined : timeoutMs;
      // The pipelined client keeps a deadline itself when there is no caller's signal to combine it with.
      const { signal, cancel } = http1 && !callerSignal ? NO_SIGNAL : callSignal(callerSignal, deadline);
      const header = new Headers(callHeader);
      header.set("content-type", contentTypeUnaryProto);
      header.set("connect-protocol-version", "1");
      // Bun's fetch (https) would offer gzip and decode it behind our back; the hop is loopback or a LAN.
      if (!http1) header.set("accept-encoding", "identity");
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
      const answered = (send(request) as Promise<UnaryResponse>).catch((error: unknown) => {
        // fetch rejects with the signal's reason; a plain abort() is the caller's cancellation.
        throw signal.aborted ? ConnectError.from(signal.reason, Code.Canceled) : ConnectError.from(error);
      });
      // A timer to stop only when there is one (a caller's signal); otherwise no third promise.
      return (signal === NEVER ? answered : answered.finally(cancel)) as Promise<UnaryResponse<typeof method.input, typeof method.output>>;
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      streams.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

const NO_SIGNAL = { signal: NEVER, cancel: () => {} };

/**
 * demux splits an answer's fields: Connect sends a unary call's trailers as `trailer-` headers
 * (connect's trailerDemux). A field Headers refuses (a malformed name or value) is left out: the
 * call's outcome doesn't depend on it, and a getter that throws would surprise whoever reads it.
 */
function demux(fields: Iterable<[string, string]>): { header: Headers; trailer: Headers } {
  const header = new Headers();
  const trailer = new Headers();
  for (const [key, value] of fields) {
    try {
      if (key.startsWith(TRAILER)) trailer.append(key.slice(TRAILER.length), value);
      else header.append(key, value);
    } catch {
      // left out, as above
    }
  }
  return { header, trailer };
}

/** lost turns a failed connection into the caller's cancellation, its deadline, or Unavailable (the peer's failure). */
function lost(error: unknown, signal: AbortSignal, url: string): ConnectError {
  if (signal.aborted) return ConnectError.from(signal.reason, Code.Canceled);
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectError(`connection to ${url} failed: ${message}`, Code.Unavailable, undefined, undefined, error);
}
