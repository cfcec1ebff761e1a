// /auth/*: thin over the auth service, which owns every rule.
import type { GatewayDeps } from "../../deps.ts";
import type { MiddlewareHandler } from "hono";
import { createRouter } from "../../validation.ts";
import { tokenJson } from "../wire.ts";
import * as routes from "./routes.ts";

/** authRoutes mounts register, login, refresh and logout. */
export function authRoutes(deps: GatewayDeps, authenticate: MiddlewareHandler) {
  const app = createRouter();
  app.use("/auth/logout", authenticate);

  app.openapi(routes.register, async (c) => {
    const body = c.req.valid("json");
    return c.json(tokenJson(await deps.auth.register(body)), 201);
  });

  app.openapi(routes.login, async (c) => c.json(tokenJson(await deps.auth.login(c.req.valid("json"))), 200));

  app.openapi(routes.refresh, async (c) => {
    const { refresh_token } = c.req.valid("json");
    return c.json(tokenJson(await deps.auth.refreshToken({ refreshToken: refresh_token })), 200);
  });

  app.openapi(routes.logout, async (c) => {
    const { refresh_token } = c.req.valid("json");
    await deps.auth.logout({ accessToken: c.get("rawToken"), refreshToken: refresh_token ?? "" });
    return c.body(null, 204);
  });

  return app;
}
