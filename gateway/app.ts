// createApp assembles the gateway: cross-cutting middleware, then the route groups, then the
// OpenAPI document and Swagger UI, which are derived from those routes.
import { cors } from "hono/cors";
import { metricsResponse } from "../lib/metrics/metrics.ts";
import { tracingEnabled } from "../lib/tracing/tracing.ts";
import type { GatewayDeps } from "./deps.ts";
import { authenticate } from "./middleware/authenticate.ts";
import { edge } from "./middleware/edge.ts";
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

  // First: the request's id, client address and context; on every answer, errors and 404s included,
  // the security headers, the HTTP metrics and the access line.
  app.use(edge({ trustedProxies: deps.trustedProxies, log: deps.log, trace: tracingEnabled() ? traceRequests() : undefined }));
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
