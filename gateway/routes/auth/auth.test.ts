import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  bearer,
  bodyOf,
  expectProblem,
  jsonInit,
  PASSWORD,
  startTestStack,
  uniqueEmail,
  type Session,
  type TestStack,
} from "../../../test/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const USER_KEYS = ["created_at", "deleted_at", "email", "email_verified_at", "id", "name", "role", "updated_at"];
const post = (path: string, body: unknown, headers: Record<string, string> = {}) => stack.fetch(path, jsonInit("POST", body, headers));

function expectTokenPair(body: Session, email: string) {
  expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type", "user"]);
  expect({ ...body }).toMatchObject({
    token_type: "Bearer",
    expires_in: 3600,
    access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
  });
  expect(Object.keys(body.user).sort()).toEqual(USER_KEYS);
  expect({ ...body.user }).toMatchObject({ email, role: "user", deleted_at: null, email_verified_at: null });
  expect(new Date(body.user.created_at).toISOString()).toBe(body.user.created_at);
}

describe("post /auth/register", () => {
  test("creates the user and answers 201 with a Bearer token pair and no password", async () => {
    const email = uniqueEmail();
    const res = await post("/auth/register", { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: " Ada Lovelace " });
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toMatch(/argon2|password|hash/i);
    const body = JSON.parse(text) as Session;
    expectTokenPair(body, email);
    expect(body.user.name).toBe("Ada Lovelace");
  });

  test("answers 409 for an email already registered, whatever its case", async () => {
    const { user } = await stack.register();
    const problem = await expectProblem(
      await post("/auth/register", { email: user.email.toUpperCase(), password: PASSWORD, name: "Twin" }),
      409,
    );
    expect(problem.instance).toBe("/auth/register");
  });

  test("rejects an unknown field with 422", async () => {
    const problem = await expectProblem(
      await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, name: "Eve", role: "admin" }),
      422,
    );
    expect(problem.errors).toEqual([{ field: "role", message: "is not an accepted field" }]);
  });

  test("lists every field error with 422", async () => {
    const problem = await expectProblem(await post("/auth/register", { email: "not-an-email", password: "short", name: "  " }), 422);
    expect(problem.errors?.map((e) => e.field).sort()).toEqual(["email", "name", "password"]);
  });

  test("keeps a unicode name as sent", async () => {
    const res = await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, name: "Zoë 李 🚀" });
    expect(res.status).toBe(201);
    expect((await bodyOf<Session>(res)).user.name).toBe("Zoë 李 🚀");
  });

  test("refuses control characters in the name with 422", async () => {
    for (const name of ["Ada\u0000", "Ada\r\nX-Injected: 1", "A\ud800"]) {
      const problem = await expectProblem(await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, name }), 422);
      expect(problem.errors).toEqual([{ field: "name", message: "must not contain control characters" }]);
    }
  });
});

describe("post /auth/login", () => {
  test("answers 200 with a token pair for the right password", async () => {
    const { user } = await stack.register();
    const res = await post("/auth/login", { email: user.email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(200);
    expectTokenPair(await bodyOf<Session>(res), user.email);
  });

  test("answers the same 401 for an unknown email and a wrong password", async () => {
    const { user } = await stack.register();
    const wrong = await expectProblem(await post("/auth/login", { email: user.email, password: "not the password" }), 401);
    const unknown = await expectProblem(await post("/auth/login", { email: uniqueEmail(), password: PASSWORD }), 401);
    expect(wrong.detail).toBe(unknown.detail);
  });
});

describe("post /auth/refresh", () => {
  test("rotates the refresh token: the new pair works and the old token answers 401", async () => {
    const first = await stack.register();
    const res = await post("/auth/refresh", { refresh_token: first.refresh_token });
    expect(res.status).toBe(200);
    const second = await bodyOf<Session>(res);
    expectTokenPair(second, first.user.email);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await stack.fetch("/users/me", { headers: bearer(second) })).status).toBe(200);
    await expectProblem(await post("/auth/refresh", { refresh_token: first.refresh_token }), 401);
  });

  test("answers 401 for a token it never issued", async () => {
    await expectProblem(await post("/auth/refresh", { refresh_token: "x".repeat(43) }), 401);
  });
});

describe("post /auth/logout", () => {
  test("answers 204, then the access token answers 401 and the refresh token is void", async () => {
    const session = await stack.register();
    const res = await post("/auth/logout", { refresh_token: session.refresh_token }, bearer(session));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    const me = await stack.fetch("/users/me", { headers: bearer(session) });
    await expectProblem(me, 401);
    expect(me.headers.get("www-authenticate")).toContain('error="invalid_token"');
    await expectProblem(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401);
  });

  test("without a body ends the whole session: its refresh token too, and no other session", async () => {
    const session = await stack.register();
    const other = await stack.login(session.user.email);
    expect((await stack.fetch("/auth/logout", { method: "POST", headers: bearer(session) })).status).toBe(204);
    await expectProblem(await stack.fetch("/users/me", { headers: bearer(session) }), 401);
    await expectProblem(await post("/auth/refresh", { refresh_token: session.refresh_token }), 401);
    expect((await stack.fetch("/users/me", { headers: bearer(other) })).status).toBe(200);
    expect((await post("/auth/refresh", { refresh_token: other.refresh_token })).status).toBe(200);
  });

  test("requires a bearer token", async () => {
    const res = await stack.fetch("/auth/logout", { method: "POST" });
    await expectProblem(res, 401);
    expect(res.headers.get("www-authenticate")).toStartWith("Bearer ");
  });
});

describe("/auth/* responses", () => {
  test("all carry Cache-Control: no-store, errors and rate-limit denials included", async () => {
    const limited = await stack.gateway({ limits: { auth: { name: "auth", max: 1, windowSeconds: 60 }, users: stack.deps.limits.users } });
    const responses = [
      await post("/auth/register", { email: uniqueEmail(), password: PASSWORD, name: "Ada" }),
      await post("/auth/login", { email: uniqueEmail(), password: PASSWORD }),
      await post("/auth/login", { email: "bad" }),
      await stack.fetch("/auth/login", { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" }),
      await stack.fetch("/auth/login", jsonInit("POST", { email: "x".repeat(20_000) })),
      await limited.fetch("/auth/login", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD })),
      await limited.fetch("/auth/login", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD })),
    ];
    expect(responses.map((r) => [r.status, r.headers.get("cache-control")])).toEqual([
      [201, "no-store"],
      [401, "no-store"],
      [422, "no-store"],
      [415, "no-store"],
      [413, "no-store"],
      [401, "no-store"],
      [429, "no-store"],
    ]);
  });
});
