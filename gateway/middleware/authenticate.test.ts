import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono, type MiddlewareHandler } from "hono";
import { silentLog } from "../../test/services.ts";
import { bearer, expectProblem, forgeToken, startTestStack, unreachableStore, type Session, type TestStack } from "../../test/stack.ts";
import type { Store } from "../../lib/redis/index.ts";
import { createRevocations } from "../../lib/tokens/revocation.ts";
import { onError } from "../problem.ts";
import { authenticate, prefetchKeys } from "./authenticate.ts";

let stack: TestStack;
let session: Session;
beforeAll(async () => {
  stack = await startTestStack();
  session = await stack.register();
});
afterAll(() => stack.close());

const me = (authorization?: string) => stack.fetch("/users/me", { headers: authorization ? { authorization } : {} });

async function expectChallenge(res: Response) {
  await expectProblem(res, 401);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/);
}

describe("authenticate", () => {
  test("accepts the access token the auth service issued", async () => {
    expect((await me(`Bearer ${session.access_token}`)).status).toBe(200);
    expect((await me(`bearer   ${session.access_token}`)).status).toBe(200);
  });

  test("answers 401 with an invalid_token challenge without a token or with another scheme", async () => {
    for (const header of [
      undefined,
      "Bearer",
      "Bearer ",
      `Basic ${btoa("a:b")}`,
      `Token ${session.access_token}`,
      `Bearer ${session.access_token} extra`,
    ]) {
      await expectChallenge(await me(header));
    }
  });

  test("answers 401 for expired, wrongly signed, unsigned, truncated and tampered tokens", async () => {
    const [header, payload, signature] = session.access_token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const tampered = Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url");
    const tokens = [
      await forgeToken(session.user, { ageSeconds: 2 * 3600 }),
      await forgeToken(session.user, { secret: "another-secret-that-is-long-enough-0123456789" }),
      await forgeToken(session.user, { alg: "none" }),
      await forgeToken(session.user, { claims: { iss: "someone-else" } }),
      await forgeToken(session.user, { claims: { typ: "refresh" } }),
      session.access_token.slice(0, -5),
      `${header}.${tampered}.${signature}`,
      session.refresh_token,
    ];
    for (const token of tokens) await expectChallenge(await me(`Bearer ${token}`));
  });

  test("accepts a token forged with the real secret, so the rejections above are about the token", async () => {
    expect((await me(`Bearer ${await forgeToken(session.user)}`)).status).toBe(200);
  });

  test("answers 401 for a revoked token, though it verifies", async () => {
    const other = await stack.register();
    expect((await stack.fetch("/auth/logout", { method: "POST", headers: bearer(other) })).status).toBe(204);
    const res = await me(`Bearer ${other.access_token}`);
    await expectChallenge(res);
    expect(res.headers.get("www-authenticate")).toContain("revoked");
  });
});

describe("authenticate without the rate limit's read", () => {
  // An app with authenticate alone (before it, optionally, a middleware that sets c.var.prefetch).
  const bare = (store: Store, before?: MiddlewareHandler) => {
    const app = new Hono();
    app.onError(onError(silentLog));
    if (before) app.use(before);
    app.use(authenticate(stack.auth.tokens.verify, store));
    app.get("/", (c) => c.json({ sub: c.get("auth").sub, cached: c.get("cachedUser") ?? null }));
    return (token: string) => app.request("/", { headers: { authorization: `Bearer ${token}` } });
  };

  test("reads the revocation marks itself: 200, then 401 once its session ended", async () => {
    const other = await stack.register();
    const call = bare(stack.svc.store);
    expect((await call(other.access_token)).status).toBe(200);
    const claims = await stack.auth.tokens.verify(other.access_token);
    await createRevocations(stack.svc.store, { accessSeconds: 3600, refreshSeconds: 3600 }).endSession(claims.sub, claims.sid);
    await expectChallenge(await call(other.access_token));
  });

  test("answers 503 when the revocation marks can't be read", async () => {
    const store = unreachableStore();
    try {
      const res = await bare(store)(session.access_token);
      expect((await expectProblem(res, 503)).detail).toContain("revocation can't be checked");
    } finally {
      await store.close();
    }
  });

  test("uses what the rate limit read only when the verified token names the same keys", async () => {
    const other = await stack.register();
    const claims = await stack.auth.tokens.verify(other.access_token);
    const read = prefetchKeys(`Bearer ${other.access_token}`)!;
    const prefetched = (keys: string[], values: (string | null)[]): MiddlewareHandler =>
      async function prefetch(c, next) {
        c.set("prefetch", { header: read.header, token: read.token, keys, values });
        await next();
      };
    // The store holds no mark for this token: a 401 can only come from the values handed on.
    await expectChallenge(await bare(stack.svc.store, prefetched(read.keys, ["1", null, null]))(other.access_token));
    await expectChallenge(await bare(stack.svc.store, prefetched(read.keys, [null, String(Date.now()), null]))(other.access_token));
    // Values read for another token's keys are ignored: the marks are read again, and there are none.
    const elsewhere = [`revoked:jti:${crypto.randomUUID()}`, `revoked:access:{user:${claims.sub}}`, `{user:${claims.sub}}`];
    const res = await bare(stack.svc.store, prefetched(elsewhere, ["1", null, JSON.stringify({ id: claims.sub })]))(other.access_token);
    expect(await res.json()).toEqual({ sub: claims.sub, cached: null });
  });

  test("takes the rate limit's token only for the same Authorization value", async () => {
    const [one, two] = [await stack.register(), await stack.register()];
    const read = prefetchKeys(`Bearer ${one.access_token}`)!;
    // What was read for another Authorization value is not this request's: its own token answers.
    const handOn = (header: string): MiddlewareHandler =>
      async function prefetch(c, next) {
        c.set("prefetch", { ...read, header, values: [null, null, "{}"] });
        await next();
      };
    const res = await bare(stack.svc.store, handOn("Bearer someone.else"))(two.access_token);
    expect(await res.json()).toEqual({ sub: two.user.id, cached: null });
    await expectChallenge(await bare(stack.svc.store, handOn("Bearer x"))("not-a-token"));
  });

  test("hands on the cached user read for an unrevoked token", async () => {
    const other = await stack.register();
    const read = prefetchKeys(`Bearer ${other.access_token}`)!;
    const entry = JSON.stringify({ id: other.user.id });
    const res = await bare(stack.svc.store, async function prefetch(c, next) {
      c.set("prefetch", { ...read, values: [null, null, entry] });
      await next();
    })(other.access_token);
    expect(await res.json()).toEqual({ sub: other.user.id, cached: entry });
  });
});

describe("prefetchKeys", () => {
  test("names the token's revocation marks and its user's cache entry, from the unverified payload", async () => {
    const claims = await stack.auth.tokens.verify(session.access_token);
    expect(prefetchKeys(`Bearer ${session.access_token}`)).toEqual({
      header: `Bearer ${session.access_token}`,
      token: session.access_token,
      keys: [`revoked:session:{user:${claims.sub}}:${claims.sid}`, `revoked:access:{user:${claims.sub}}`, `{user:${claims.sub}}`],
    });
  });

  test("is undefined without a bearer token or with one that is no JWT", () => {
    const payload = (value: unknown) => `e30.${Buffer.from(JSON.stringify(value)).toString("base64url")}.sig`;
    for (const header of [undefined, "", "Basic abc", "Bearer", "Bearer abc", "Bearer a.b.c", `Bearer ${payload({ sub: 1, sid: "x" })}`]) {
      expect(prefetchKeys(header)).toBeUndefined();
    }
    expect(prefetchKeys(`Bearer ${payload({ sub: "s", sid: "j" })}`)?.keys).toEqual([
      "revoked:session:{user:s}:j",
      "revoked:access:{user:s}",
      "{user:s}",
    ]);
  });
});

describe("requireAdmin", () => {
  test("answers 403 to a user and lets an admin through", async () => {
    await expectProblem(await stack.fetch("/users", { headers: bearer(session) }), 403);
    expect((await stack.fetch("/users", { headers: bearer(await stack.registerAdmin()) })).status).toBe(200);
  });
});
