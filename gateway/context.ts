// The request context, declared once: what the gateway's middleware sets on c.var for the code after it.
import type { AccessClaims } from "../lib/tokens/tokens.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** clientIp is the address rate limits count (middleware/client-ip.ts). */
    clientIp: string;
    /** auth is the verified access token's claims, on routes behind authenticate. */
    auth: AccessClaims;
    /** rawToken is the bearer token itself, for logout to revoke. */
    rawToken: string;
  }
}
