// Server-side deadlines for RPCs: cap every call's timeout, and answer DeadlineExceeded when it passes.
import type { IncomingHttpHeaders } from "node:http";
import { ConnectError, type Interceptor } from "@connectrpc/connect";

const GRPC_UNITS_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * capDeadline rewrites a request's timeout header in place so no call outlives maxTimeoutMs.
 * connect's own `maxTimeoutMs` only rejects longer client timeouts with InvalidArgument and
 * leaves calls without one unbounded; gRPC lets a server shorten a deadline instead, so a
 * longer timeout is lowered, and a unary call without one gets maxTimeoutMs. Streams without
 * a deadline (health Watch, reflection) stay open: they are meant to be long-lived.
 */
export function capDeadline(headers: IncomingHttpHeaders, unary: boolean, maxTimeoutMs: number): void {
  const cap = deadlineCap(headers, unary, maxTimeoutMs);
  if (cap) headers[cap.name] = cap.value;
}

/** deadlineCap is the timeout header capDeadline would write (for node's headers or fetch's), or undefined. */
export function deadlineCap(
  headers: IncomingHttpHeaders | Headers,
  unary: boolean,
  maxTimeoutMs: number,
): { name: string; value: string } | undefined {
  const read = (key: string) => (headers instanceof Headers ? (headers.get(key) ?? undefined) : headers[key]);
  const grpc = String(read("content-type") ?? "").startsWith("application/grpc");
  const name = grpc ? "grpc-timeout" : "connect-timeout-ms";
  const value = read(name);
  const requested = typeof value === "string" ? parseTimeoutMs(value, grpc) : undefined;
  if (value !== undefined && requested === undefined) return undefined; // malformed: connect answers it
  if (requested === undefined ? !unary : requested <= maxTimeoutMs) return undefined;
  // grpc-timeout allows at most 8 digits.
  return { name, value: grpc ? `${Math.min(maxTimeoutMs, 99_999_999)}m` : String(maxTimeoutMs) };
}

function parseTimeoutMs(value: string, grpc: boolean): number | undefined {
  if (!grpc) return /^\d{1,10}$/.test(value) ? Number(value) : undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  return match ? Number(match[1]) * (GRPC_UNITS_MS[match[2] ?? ""] ?? 1) : undefined;
}

/**
 * answerAtDeadline ends a unary call with its context's abort reason (DeadlineExceeded, or
 * Unavailable at shutdown) as soon as the signal fires, even if the handler ignores the
 * signal: connect only aborts the signal and would otherwise wait for the handler.
 */
export const answerAtDeadline: Interceptor = (next) => (req) => {
  if (req.stream) return next(req);
  const { signal } = req;
  const result = next(req);
  result.catch(() => {}); // a late failure after we already answered is nobody's to handle
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(ConnectError.from(signal.reason));
    signal.addEventListener("abort", () => reject(ConnectError.from(signal.reason)), { once: true });
  });
  aborted.catch(() => {});
  return Promise.race([result, aborted]);
};
