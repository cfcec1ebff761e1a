// /health (the reference's shape, plus the services' gRPC health), /health/live and /health/ready.
import { createRoute, z, type RouteHandler } from "@hono/zod-openapi";
import { metrics } from "../../lib/metrics/metrics.ts";
import type { GatewayDeps } from "../deps.ts";
import { createRouter } from "../validation.ts";

// Anyone may call these, so a check answers only its status; why it failed (addresses, connection
// strings) goes to the log.
const Check = z.object({ status: z.enum(["healthy", "unhealthy"]) });
const Health = z.object({ status: z.enum(["healthy", "degraded"]), services: z.record(z.string(), Check) }).openapi("Health", {
  example: { status: "healthy", services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } } },
});

const TIMEOUT_MS = 2000;

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["Health"],
  security: [],
  summary: "Health of the gateway's dependencies",
  responses: {
    200: { description: "All dependencies healthy", content: { "application/json": { schema: Health } } },
    503: { description: "One or more dependencies unhealthy", content: { "application/json": { schema: Health } } },
  },
});
const ready = createRoute({
  ...health,
  path: "/health/ready",
  operationId: "getReadiness",
  summary: "Readiness probe (same verdict as /health)",
});
const live = createRoute({
  method: "get",
  path: "/health/live",
  operationId: "getLiveness",
  tags: ["Health"],
  security: [],
  summary: "Liveness probe: the process is up",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: z.object({ status: z.literal("alive") }) } } } },
});

/** healthRoutes checks Redis and each backing service in parallel, each within a deadline; failures are logged. */
export function healthRoutes(deps: GatewayDeps) {
  const app = createRouter();
  const checks: Record<string, () => Promise<void>> = { redis: () => deps.store.ping(), ...deps.healthChecks };

  const verdict = async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), TIMEOUT_MS);
          metrics.dependencyUp.set({ dependency: name }, 1);
          return [name, { status: "healthy" as const }] as const;
        } catch (error) {
          deps.log.warn("health check failed", {
            dependency: name,
            error: error instanceof Error ? error.name : typeof error,
            error_message: error instanceof Error ? error.message : String(error),
          });
          metrics.dependencyUp.set({ dependency: name }, 0);
          return [name, { status: "unhealthy" as const }] as const;
        }
      }),
    );
    const services = Object.fromEntries(entries);
    const healthy = !deps.isShuttingDown() && entries.every(([, check]) => check.status === "healthy");
    return {
      body: { status: healthy ? ("healthy" as const) : ("degraded" as const), services },
      code: healthy ? (200 as const) : (503 as const),
    };
  };

  const handler: RouteHandler<typeof health> = async (c) => {
    const { body, code } = await verdict();
    c.header("Cache-Control", "no-store");
    return c.json(body, code);
  };
  app.openapi(health, handler);
  app.openapi(ready, handler);
  app.openapi(live, (c) => c.json({ status: "alive" as const }, 200));
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
