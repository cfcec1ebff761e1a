// The client behind a request, as the auth service's limits and session list need it: the address
// the gateway resolved (behind trusted proxies, from X-Forwarded-For) and the User-Agent. The auth
// service believes these headers only from a caller holding the gateway's credential.
import type { CallOptions } from "@connectrpc/connect";
import type { Context } from "hono";

/** clientOf is the call options that name the request's client to the auth service. */
export function clientOf(c: Context): CallOptions {
  return { headers: { "x-client-ip": c.get("clientIp") ?? "", "x-client-user-agent": (c.req.header("user-agent") ?? "").slice(0, 256) } };
}
