// createApp assembles the gateway: cross-cutting middleware, then the route groups, then the
// OpenAPI document and Swagger UI, which are derived from those routes.
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { metricsResponse } from "../lib/metrics/metrics.ts";
import { withRequest } from "../lib/request-context.ts";
import { tracingEnabled } from "../lib/tracing/tracing.ts";
import type { GatewayDeps } from "./deps.ts";
import { accessLog } from "./middleware/access-log.ts";
import { authenticate } from "./middleware/authenticate.ts";
import { clientIp } from "./middleware/client-ip.ts";
import { httpMetrics } from "./middleware/metrics.ts";
import { traceRequests } from "./middleware/tracing.ts";
import { onError, problemResponse } from "./problem.ts";
import { authApi } from "./routes/auth/index.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { usersApi } from "./routes/users/index.ts";
import { createRouter } from "./validation.ts";

/** createApp builds the gateway's Hono app from its dependencies. */
export function createApp(deps: GatewayDeps) {
  const app = createRouter();
  app.onError(onError(deps.log));
  app.notFound((c) => problemResponse(c, 404, `no route for ${c.req.method} ${c.req.path}`));

  // First: it times and counts every answer, errors and 404s included.
  app.use(httpMetrics());
  app.use(requestId({ limitLength: 128 }));
  if (tracingEnabled()) app.use(traceRequests());
  // Everything the request does from here runs inside it: log lines and RPCs carry its id.
  app.use((c, next) => withRequest({ requestId: c.get("requestId") }, next));
  app.use(clientIp(deps.trustedProxies));
  app.use(accessLog(deps.log));
  app.use(secureHeaders({ contentSecurityPolicy: undefined, crossOriginEmbedderPolicy: false }));
  if (deps.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: deps.corsOrigins.includes("*") ? "*" : deps.corsOrigins,
        exposeHeaders: [
          "X-Request-Id",
          "X-RateLimit-Limit",
          "X-RateLimit-Remaining",
          "RateLimit",
          "RateLimit-Policy",
          "Retry-After",
          "ETag",
        ],
        maxAge: 600,
      }),
    );
  }

  app.route("/", healthRoutes(deps));
  // Prometheus scrapes: no rate limit, not in the public OpenAPI document; METRICS_TOKEN guards it when set.
  app.get("/metrics", (c) => metricsResponse(c.req.raw, deps.metricsToken));
  // One instance, so a token verified on one route is remembered on every route.
  const bearer = authenticate(deps.verifyAccessToken, deps.store);
  // Each group sets its own middleware (rate limit, body limit, caching, authentication).
  app.route("/auth", authApi(deps, bearer));
  app.route("/users", usersApi(deps, bearer));
  return docsRoutes(app, deps.version);
}
