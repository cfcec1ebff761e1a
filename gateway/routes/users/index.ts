// /users/*: authorization lives here (who may see and change what); the user service owns the data.
import { UserState } from "../../../gen/user/v1/user_pb.ts";
import type { MiddlewareHandler } from "hono";
import { metrics } from "../../../lib/metrics/metrics.ts";
import { counterSeries } from "../../../lib/metrics/series.ts";
import type { GatewayDeps } from "../../deps.ts";
import { etag } from "../../middleware/etag.ts";
import { jsonBody } from "../../middleware/json-body.ts";
import { rateLimit } from "../../middleware/rate-limit.ts";
import { ProblemError } from "../../problem.ts";
import { createRouter } from "../../validation.ts";
import { clientOf } from "../client.ts";
import { sessionsJson, tokenPairJson, userJson } from "../wire.ts";
import { activeCachedUser } from "./cached-user.ts";
import * as routes from "./routes.ts";

const cacheHit = counterSeries(metrics.userCache, "hit");
const cacheMiss = counterSeries(metrics.userCache, "miss");
const STATES = { active: UserState.ACTIVE, deleted: UserState.DELETED, all: UserState.ALL } as const;
const KiB = 1024;

/** usersApi is the /users group: rate limit, 1 MiB JSON bodies, ETags and a bearer token on every route. */
export function usersApi(deps: GatewayDeps, authenticate: MiddlewareHandler) {
  const app = createRouter();
  // etag acts only on GET and HEAD answers.
  app.use(rateLimit(deps.store, deps.limits.users), jsonBody(1024 * KiB), etag, authenticate);

  // A user sees only themselves; another id answers exactly like a missing one (no enumeration).
  const ownOrAdmin = (auth: { sub: string; role: string }, id: string) => {
    if (auth.role !== "admin" && auth.sub !== id) throw new ProblemError(404, `no user with id ${id}`);
  };

  app.openapi(routes.me, async (c) => {
    const id = c.get("auth").sub;
    // The user cache was read with the rate limit, in the same round trip as the revocation check.
    const cached = activeCachedUser(c.get("cachedUser"), id);
    (cached ? cacheHit : cacheMiss).inc();
    const user = cached ?? (await deps.users.getUser({ id }));
    return c.json(userJson(user), 200);
  });

  app.openapi(routes.list, async (c) => {
    const query = c.req.valid("query");
    const page = await deps.users.listUsers({
      pageSize: query.page_size ?? 0,
      pageToken: query.page_token ?? "",
      state: STATES[query.state],
    });
    return c.json({ users: page.users.map(userJson), next_page_token: page.nextPageToken || null }, 200);
  });

  app.openapi(routes.get, async (c) => {
    const { id } = c.req.valid("param");
    ownOrAdmin(c.get("auth"), id);
    return c.json(userJson(await deps.users.getUser({ id })), 200);
  });

  app.openapi(routes.update, async (c) => {
    const { id } = c.req.valid("param");
    const auth = c.get("auth");
    ownOrAdmin(auth, id);
    const body = c.req.valid("json");
    if (body.role !== undefined && auth.role !== "admin") throw new ProblemError(403, "only an admin may change a role");
    // The auth service hashes, checks current_password (required for one's own email or password)
    // and keeps the caller's session alive when the change voids its tokens.
    const self = auth.sub === id;
    const { user, tokens, pendingEmail } = await deps.auth.updateAccount(
      {
        userId: id,
        name: body.name,
        email: body.email,
        role: body.role,
        password: body.password,
        currentPassword: body.current_password,
        keepSessionId: self ? auth.sid : "",
      },
      clientOf(c),
    );
    return c.json(
      { ...userJson(user), ...(tokens && { tokens: tokenPairJson(tokens) }), ...(pendingEmail && { pending_email: pendingEmail }) },
      200,
    );
  });

  app.openapi(routes.sessions, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(sessionsJson(await deps.auth.listSessions({ userId: id, currentSessionId: c.get("auth").sid })), 200);
  });

  app.openapi(routes.endSession, async (c) => {
    const { id, sid } = c.req.valid("param");
    await deps.auth.endSessions({ userId: id, sessionId: sid });
    return c.body(null, 204);
  });

  app.openapi(routes.remove, async (c) => {
    await deps.users.deleteUser({ id: c.req.valid("param").id });
    return c.body(null, 204);
  });

  app.openapi(routes.restore, async (c) => c.json(userJson(await deps.users.restoreUser({ id: c.req.valid("param").id })), 200));

  return app;
}
