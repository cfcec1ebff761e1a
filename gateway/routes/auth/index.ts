// /auth/*: thin over the auth service, which owns every rule.
import type { GatewayDeps } from "../../deps.ts";
import type { MiddlewareHandler } from "hono";
import { jsonBody } from "../../middleware/json-body.ts";
import { rateLimit } from "../../middleware/rate-limit.ts";
import { createRouter } from "../../validation.ts";
import { clientOf } from "../client.ts";
import { sessionsJson, tokenJson, userJson } from "../wire.ts";
import * as routes from "./routes.ts";

/** authApi is the /auth group: no-store answers, the auth rate limit and 16 KiB JSON bodies on every route. */
export function authApi(deps: GatewayDeps, authenticate: MiddlewareHandler) {
  const app = createRouter();
  // noStore goes first so that it also marks the 429, 413 and 415 answered by the middleware after it.
  app.use(
    async function noStore(c, next) {
      await next();
      c.header("Cache-Control", "no-store");
    },
    rateLimit(deps.store, deps.limits.auth),
    jsonBody(16 * 1024),
  );

  app.openapi(routes.register, async (c) => {
    const body = c.req.valid("json");
    return c.json(tokenJson(await deps.auth.register(body, clientOf(c))), 201);
  });

  app.openapi(routes.login, async (c) => c.json(tokenJson(await deps.auth.login(c.req.valid("json"), clientOf(c))), 200));

  app.openapi(routes.refresh, async (c) => {
    const { refresh_token } = c.req.valid("json");
    return c.json(tokenJson(await deps.auth.refreshToken({ refreshToken: refresh_token }, clientOf(c))), 200);
  });

  app.openapi(routes.forgotPassword, async (c) => {
    await deps.auth.requestPasswordReset({ email: c.req.valid("json").email }, clientOf(c));
    return c.body(null, 202);
  });

  app.openapi(routes.resetPassword, async (c) => {
    await deps.auth.resetPassword(c.req.valid("json"), clientOf(c));
    return c.body(null, 204);
  });

  app.openapi(routes.verifyEmail, async (c) => {
    const { user } = await deps.auth.verifyEmail(c.req.valid("json"), clientOf(c));
    return c.json(userJson(user), 200);
  });

  // The routes below act on the caller's own account and sessions: they need its token.
  app.openapi({ ...routes.resendVerification, middleware: [authenticate] }, async (c) => {
    await deps.auth.resendVerification({ userId: c.get("auth").sub }, clientOf(c));
    return c.body(null, 202);
  });

  app.openapi({ ...routes.logout, middleware: [authenticate] }, async (c) => {
    const { refresh_token } = c.req.valid("json");
    await deps.auth.logout({ accessToken: c.get("rawToken"), refreshToken: refresh_token ?? "" });
    return c.body(null, 204);
  });

  app.openapi({ ...routes.logoutAll, middleware: [authenticate] }, async (c) => {
    await deps.auth.endSessions({ userId: c.get("auth").sub, sessionId: "" });
    return c.body(null, 204);
  });

  app.openapi({ ...routes.listSessions, middleware: [authenticate] }, async (c) => {
    const { sub, sid } = c.get("auth");
    return c.json(sessionsJson(await deps.auth.listSessions({ userId: sub, currentSessionId: sid })), 200);
  });

  app.openapi({ ...routes.endSession, middleware: [authenticate] }, async (c) => {
    await deps.auth.endSessions({ userId: c.get("auth").sub, sessionId: c.req.valid("param").id });
    return c.body(null, 204);
  });

  return app;
}
