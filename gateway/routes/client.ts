// The client behind a request, as the auth service's limits and session list need it: the address
// the gateway resolved (behind trusted proxies, from X-Forwarded-For) and the User-Agent. The auth
// service believes these headers only from a caller holding the gateway's credential.
import type { CallOptions } from "@connectrpc/connect";
import type { Context } from "hono";
import { CLIENT_IP_HEADER, CLIENT_USER_AGENT_HEADER } from "../../lib/rpc/callers.ts";

/** clientOf is the call options that name the request's client to the auth service. */
export function clientOf(c: Context): CallOptions {
  return {
    headers: { [CLIENT_IP_HEADER]: c.get("clientIp") ?? "", [CLIENT_USER_AGENT_HEADER]: (c.req.header("user-agent") ?? "").slice(0, 256) },
  };
}
