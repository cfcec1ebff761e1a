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
  type UserPageJson,
} from "../../../test/stack.ts";

let stack: TestStack;
let admin: Session;
beforeAll(async () => {
  stack = await startTestStack();
  admin = await stack.registerAdmin();
});
afterAll(() => stack.close());

const MISSING_ID = "00000000-0000-4000-8000-000000000000";
const get = (path: string, session: Session, headers: Record<string, string> = {}) =>
  stack.fetch(path, { headers: { ...bearer(session), ...headers } });
const put = (id: string, session: Session, body: unknown) => stack.fetch(`/users/${id}`, jsonInit("PUT", body, bearer(session)));
const roleOf = async (id: string) => (await stack.svc.users.getUser({ id })).role;
// Two problems differ only in where and when they were asked.
const comparable = ({ instance: _, request_id: __, ...rest }: Record<string, unknown>) => rest;

describe("get /users/me", () => {
  test("answers the authenticated user, without a password", async () => {
    const session = await stack.register();
    const res = await get("/users/me", session);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/password|hash/i);
    expect(JSON.parse(text)).toEqual(session.user);
  });

  test("answers 401 with a Bearer challenge without a token", async () => {
    const res = await stack.fetch("/users/me");
    await expectProblem(res, 401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
  });
});

describe("get /users", () => {
  test("pages through users for an admin", async () => {
    await stack.register();
    const first = await get("/users?page_size=1", admin);
    expect(first.status).toBe(200);
    const page = await bodyOf<UserPageJson>(first);
    expect(page.users).toHaveLength(1);
    expect(page.next_page_token).toEqual(expect.any(String));
    const second = await bodyOf<UserPageJson>(
      await get(`/users?page_size=1&page_token=${encodeURIComponent(page.next_page_token ?? "")}`, admin),
    );
    expect(second.users[0]?.id).not.toBe(page.users[0]?.id);
  });

  test("lists only deleted users with state=deleted", async () => {
    const gone = await stack.register();
    expect((await stack.fetch(`/users/${gone.user.id}`, { method: "DELETE", headers: bearer(admin) })).status).toBe(204);
    const { users, next_page_token } = await bodyOf<UserPageJson>(await get("/users?state=deleted&page_size=100", admin));
    expect(users.map((u) => u.id)).toContain(gone.user.id);
    expect(users.every((u) => u.deleted_at !== null)).toBe(true);
    expect(next_page_token).toBeNull();
  });

  test("answers 403 for a user and 422 for a bad page size", async () => {
    await expectProblem(await get("/users", await stack.register()), 403);
    const problem = await expectProblem(await get("/users?page_size=101", admin), 422);
    expect(problem.errors?.[0]?.field).toBe("page_size");
  });
});

describe("get /users/{id}", () => {
  test("answers a user their own record and an admin anyone's", async () => {
    const session = await stack.register();
    expect(await (await get(`/users/${session.user.id}`, session)).json()).toEqual(session.user);
    expect(await (await get(`/users/${session.user.id}`, admin)).json()).toEqual(session.user);
  });

  test("answers a user their own record by the id in upper case (UUIDs are case-insensitive), like an admin", async () => {
    const session = await stack.register();
    const upper = session.user.id.toUpperCase();
    expect(upper).not.toBe(session.user.id);
    for (const who of [session, admin]) {
      const res = await get(`/users/${upper}`, who);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(session.user);
    }
  });

  test("answers 404 for another user's id exactly like a missing one", async () => {
    const [me, other] = [await stack.register(), await stack.register()];
    const theirs = await expectProblem(await get(`/users/${other.user.id}`, me), 404);
    const missing = await expectProblem(await get(`/users/${MISSING_ID}`, me), 404);
    expect(comparable({ ...theirs, detail: theirs.detail.replace(other.user.id, MISSING_ID) })).toEqual(comparable(missing));
  });

  test("answers an ETag, and 304 for a matching If-None-Match", async () => {
    const session = await stack.register();
    const res = await get(`/users/${session.user.id}`, session);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^(W\/)?".+"$/);
    const again = await get(`/users/${session.user.id}`, session, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await get("/users/me", session, { "if-none-match": etag! })).status).toBe(304);
  });

  test("answers a changed ETag after an update, so a stale If-None-Match gets 200", async () => {
    const session = await stack.register();
    const etag = (await get("/users/me", session)).headers.get("etag")!;
    await put(session.user.id, session, { name: "Renamed" });
    const res = await get("/users/me", session, { "if-none-match": etag });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).not.toBe(etag);
  });
});

describe("put /users/{id}", () => {
  test("updates the user's own name and password at once, and the email only once the new address confirms it", async () => {
    const session = await stack.register();
    const email = uniqueEmail();
    const change = { name: "New Name", email, password: "another long passphrase" };
    const res = await put(session.user.id, session, { ...change, current_password: PASSWORD });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ...session.user,
      name: "New Name",
      updated_at: expect.any(String),
      pending_email: email,
      tokens: { access_token: expect.any(String), refresh_token: expect.any(String), token_type: "Bearer", expires_in: 3600 },
    });
    await expectProblem(await stack.fetch("/auth/login", jsonInit("POST", { email, password: "another long passphrase" })), 401);
    await expectProblem(await stack.fetch("/auth/login", jsonInit("POST", { email: session.user.email, password: PASSWORD })), 401);
    expect((await stack.login(session.user.email, "another long passphrase")).user.id).toBe(session.user.id);
  });

  test("answers 403 when a user sends role, and the role stays unchanged", async () => {
    const session = await stack.register();
    for (const role of ["admin", "user"]) await expectProblem(await put(session.user.id, session, { role }), 403);
    expect(await roleOf(session.user.id)).toBe("user");
  });

  test("updates the user's own record by the id in upper case", async () => {
    const session = await stack.register();
    const res = await put(session.user.id.toUpperCase(), session, { name: "Upper Case" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: session.user.id, name: "Upper Case" });
  });

  test("answers 404 for another user's id and leaves that user unchanged", async () => {
    const [me, other] = [await stack.register(), await stack.register()];
    await expectProblem(await put(other.user.id, me, { name: "Hijacked" }), 404);
    expect((await stack.svc.users.getUser({ id: other.user.id })).name).toBe(other.user.name);
  });

  test("lets an admin update anyone and change roles", async () => {
    const session = await stack.register();
    const res = await put(session.user.id, admin, { name: "Promoted", role: "admin" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "Promoted", role: "admin" });
    expect(await roleOf(session.user.id)).toBe("admin");
  });

  test("answers 409 for an email another user has, whatever its case", async () => {
    const [me, other] = [await stack.register(), await stack.register()];
    await expectProblem(await put(me.user.id, me, { email: other.user.email.toUpperCase(), current_password: PASSWORD }), 409);
  });

  test("rejects an unknown field with 422", async () => {
    const session = await stack.register();
    const problem = await expectProblem(await put(session.user.id, session, { is_admin: true }), 422);
    expect(problem.errors).toEqual([{ field: "is_admin", message: "is not an accepted field" }]);
  });
});

describe("delete /users/{id} and post /users/{id}/restore", () => {
  test("an admin soft-deletes (204), the user's tokens stop working, and restore brings the user back", async () => {
    const session = await stack.register();
    const res = await stack.fetch(`/users/${session.user.id}`, { method: "DELETE", headers: bearer(admin) });
    expect(res.status).toBe(204);
    await expectProblem(await get("/users/me", session), 401);
    await expectProblem(await get(`/users/${session.user.id}`, admin), 404);
    const restored = await stack.fetch(`/users/${session.user.id}/restore`, { method: "POST", headers: bearer(admin) });
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ id: session.user.id, deleted_at: null });
  });

  test("an admin deleting by the id in upper case revokes that user's tokens and hides the user", async () => {
    const session = await stack.register();
    expect((await get("/users/me", session)).status).toBe(200);
    const upper = session.user.id.toUpperCase();
    expect((await stack.fetch(`/users/${upper}`, { method: "DELETE", headers: bearer(admin) })).status).toBe(204);
    await expectProblem(await get("/users/me", session), 401);
    await expectProblem(await get(`/users/${session.user.id}`, admin), 404);
    const restored = await stack.fetch(`/users/${upper}/restore`, { method: "POST", headers: bearer(admin) });
    expect(await restored.json()).toMatchObject({ id: session.user.id, deleted_at: null });
  });

  test("answer 403 for a user, even on their own id", async () => {
    const session = await stack.register();
    await expectProblem(await stack.fetch(`/users/${session.user.id}`, { method: "DELETE", headers: bearer(session) }), 403);
    await expectProblem(await stack.fetch(`/users/${session.user.id}/restore`, { method: "POST", headers: bearer(session) }), 403);
    expect((await get("/users/me", session)).status).toBe(200);
  });

  test("answer 404 for a missing user", async () => {
    await expectProblem(await stack.fetch(`/users/${MISSING_ID}`, { method: "DELETE", headers: bearer(admin) }), 404);
    await expectProblem(await stack.fetch(`/users/${MISSING_ID}/restore`, { method: "POST", headers: bearer(admin) }), 404);
  });
});
