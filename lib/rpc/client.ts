// Service-to-service RPC clients: the Connect protocol over HTTP/1.1 (the cheap internal hop) or
// gRPC over h2c, with the same deadline and lost-peer rules.
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { rpcMetrics } from "../metrics/rpc.ts";
import { traceClient } from "../tracing/rpc.ts";
import { type BalanceOptions, balancedTransport, needsBalancing } from "./balance.ts";
import { createConnectClientTransport } from "./connect-client.ts";
import { passRequestId } from "./request-id.ts";

export type RpcTransportOptions = {
  /** timeoutMs is the deadline of every call that sets none; default 5 s. */
  timeoutMs?: number;
  /** interceptors run on every call after the transport's own, e.g. sendCredential. */
  interceptors?: Interceptor[];
  /**
   * protocol: "connect" (default) is unary binary Connect calls on Bun's fetch, which a service
   * answers cheapest on its internal port and also on its service port; "grpc" is connect-node's
   * gRPC transport over h2c, for the service port only.
   */
  protocol?: "connect" | "grpc";
  /** balance tunes the balancing over several replicas (lib/rpc/balance.ts); tests inject a resolver. */
  balance?: BalanceOptions;
};

/**
 * createRpcTransport creates the transport for service-to-service calls to baseUrl: one URL, or a
 * comma-separated list of a service's replicas; a hostname is resolved to every replica behind it
 * (lib/rpc/balance.ts). The default deadline
 * turns a peer that accepts but never answers into DeadlineExceeded; a peer that is down, or
 * drops the connection mid-call, fails at once with Unavailable.
 */
export function createRpcTransport(baseUrl: string, options: RpcTransportOptions = {}): Transport {
  // Several replicas (a URL list, or a hostname answering with several addresses): balanced per call.
  if (needsBalancing(baseUrl)) return balancedTransport(baseUrl, (url) => oneReplica(url, options), options.balance);
  return oneReplica(baseUrl, options);
}

function oneReplica(baseUrl: string, options: RpcTransportOptions): Transport {
  const interceptors = [rpcMetrics("client"), passRequestId, traceClient, ...(options.interceptors ?? [])];
  // The Connect client reports a lost connection as Unavailable itself.
  if (options.protocol !== "grpc") return createConnectClientTransport(baseUrl, { timeoutMs: options.timeoutMs ?? 5000, interceptors });
  return createGrpcTransport({
    baseUrl,
    defaultTimeoutMs: options.timeoutMs ?? 5000,
    interceptors: [rpcMetrics("client"), passRequestId, traceClient, lostPeerIsUnavailable, ...(options.interceptors ?? [])],
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
