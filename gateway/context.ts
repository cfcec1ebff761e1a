// The request context, declared once: what the gateway's middleware sets on c.var for the code after it.
import type { AccessClaims } from "../lib/tokens/tokens.ts";
import type { Prefetch } from "./middleware/authenticate.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** requestId is X-Request-Id: the client's when acceptable, else a new UUID (middleware/request-id.ts). */
    requestId: string;
    /** clientIp is the address rate limits count (middleware/client-ip.ts). */
    clientIp: string;
    /** auth is the verified access token's claims, on routes behind authenticate. */
    auth: AccessClaims;
    /** rawToken is the bearer token itself, for logout to revoke. */
    rawToken: string;
    /** prefetch is what the rate limit read for the bearer token with its hit (middleware/authenticate.ts). */
    prefetch: Prefetch | undefined;
    /** cachedUser is the user's cached user.v1.UserResponse (protobuf JSON) from that read, set by
     * authenticate once the token is known unrevoked (routes/users/cached-user.ts decodes it). */
    cachedUser: string;
  }
}
