// The client address that rate limits count. Forwarded headers are believed only from a peer in
// TRUSTED_PROXIES; X-Forwarded-For is then read from the right, skipping trusted hops (proxy-addr,
// the library Express uses), so a client can't escape its limit by sending made-up headers.
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";
import proxyAddr from "proxy-addr";

/** parseTrustedProxies validates a comma-separated CIDR list; bad entries fail at startup. */
export function parseTrustedProxies(list: string): string[] {
  const entries = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  proxyAddr.compile(entries); // throws on an invalid address or range
  return entries;
}

/** clientIp gives a request's client address: X-Forwarded-For, X-Real-IP, socket address,
 * "unknown" — the first two only via trusted proxies. The edge middleware sets it as c.var.clientIp. */
export function clientIp(trustedProxies: string[]): (c: Context) => string {
  const trust = proxyAddr.compile(trustedProxies);
  return function clientIp(c) {
    const socket = socketAddress(c);
    if (!socket || trustedProxies.length === 0 || !trust(socket, 0)) return socket ?? "unknown";
    const forwarded = c.req.header("x-forwarded-for");
    // proxy-addr reads only these two fields of a Node request.
    const req = { headers: { "x-forwarded-for": forwarded }, connection: { remoteAddress: socket } };
    if (forwarded) return proxyAddr(req as unknown as Parameters<typeof proxyAddr>[0], trust);
    const realIp = c.req.header("x-real-ip")?.trim();
    return realIp && isIp(realIp) ? realIp : socket;
  };
}

function socketAddress(c: Context): string | undefined {
  try {
    return normalize(getConnInfo(c).remote.address);
  } catch {
    return undefined; // not served by Bun.serve (e.g. app.request in tests)
  }
}

const normalize = (ip: string | undefined) => (ip?.startsWith("::ffff:") ? ip.slice(7) : ip);
const isIp = (value: string) => /^[0-9a-fA-F:.]{2,45}$/.test(value);
