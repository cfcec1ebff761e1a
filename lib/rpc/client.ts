// Service-to-service RPC clients: the gRPC (h2c) transport every caller uses, with its deadline and lost-peer rules.
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

export type RpcTransportOptions = {
  /** timeoutMs is the deadline of every call that sets none; default 5 s. */
  timeoutMs?: number;
  /** interceptors run on every call after the transport's own, e.g. sendCredential. */
  interceptors?: Interceptor[];
};

/**
 * createRpcTransport creates a gRPC transport over h2c for service-to-service calls. The
 * default deadline turns a peer that accepts but never answers into DeadlineExceeded; a peer
 * that is down, or drops the connection mid-call, fails at once with Unavailable.
 */
export function createRpcTransport(baseUrl: string, options: RpcTransportOptions = {}): Transport {
  return createGrpcTransport({
    baseUrl,
    defaultTimeoutMs: options.timeoutMs ?? 5000,
    interceptors: [lostPeerIsUnavailable, ...(options.interceptors ?? [])],
    // Pings find a silently dead peer (e.g. a vanished pod) instead of waiting on TCP.
    pingIntervalMs: 30_000,
    pingTimeoutMs: 5000,
    idleConnectionTimeoutMs: 60_000,
  });
}

/**
 * lostPeerIsUnavailable: connect-node reports a connection dropped under a call as Canceled
 * (RST_STREAM CANCEL, see connectrpc/connect-es#1492), which callers would read as their own
 * cancellation. Unless the caller did cancel, it is the peer's failure: Unavailable, retryable.
 */
const lostPeerIsUnavailable: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (e) {
    const err = ConnectError.from(e);
    if (err.code !== Code.Canceled || req.signal.aborted) throw err;
    throw new ConnectError(`connection to ${req.url} lost: ${err.rawMessage}`, Code.Unavailable, undefined, undefined, err);
  }
};
