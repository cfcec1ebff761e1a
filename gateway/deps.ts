import type { Client } from "@connectrpc/connect";
import type { AuthService } from "../gen/auth/v1/auth_pb.ts";
import type { UserService } from "../gen/user/v1/user_pb.ts";
import type { Store } from "../lib/redis/types.ts";
import type { Logger } from "../lib/log.ts";
import type { AccessClaims } from "./middleware/authenticate.ts";
import type { RateLimitPolicy } from "./middleware/rate-limit.ts";

/** GatewayDeps is everything the gateway's routes reach: built once by main.ts or combined. */
export type GatewayDeps = {
  auth: Client<typeof AuthService>;
  users: Client<typeof UserService>;
  store: Store;
  log: Logger;
  /** verifyAccessToken checks a JWT locally (signature, claims, expiry); throws when invalid. */
  verifyAccessToken: (token: string) => Promise<AccessClaims>;
  /** health checks of the backing services, by name, each resolving or throwing with a reason. */
  healthChecks: Record<string, () => Promise<void>>;
  limits: { auth: RateLimitPolicy; users: RateLimitPolicy };
  trustedProxies: string[];
  corsOrigins: string[];
  version: string;
  /** metricsToken, when set, is the bearer token GET /metrics requires (METRICS_TOKEN). */
  metricsToken?: string;
  /** isShuttingDown makes /health answer 503 while the process drains. */
  isShuttingDown: () => boolean;
};
