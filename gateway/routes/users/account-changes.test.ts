// A change to an account takes effect at once: the tokens it makes stale stop working, whatever
// happens concurrently, and a change that can't be recorded isn't reported done.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  bearer,
  bodyOf,
  expectProblem,
  jsonInit,
  PASSWORD,
  type Session,
  startTestStack,
  type TestStack,
  uniqueEmail,
} from "../../../test/stack.ts";

let stack: TestStack;
let admin: Session;
beforeAll(async () => {
  stack = await startTestStack();
  admin = await stack.registerAdmin();
});
afterAll(() => stack.close());

const put = (id: string, session: Session, body: unknown) => stack.fetch(`/users/${id}`, jsonInit("PUT", body, bearer(session)));
const me = (session: Session) => stack.fetch("/users/me", { headers: bearer(session) });
const refresh = (session: Session) => stack.fetch("/auth/refresh", jsonInit("POST", { refresh_token: session.refresh_token }));
type Updated = { id: string; email: string; role: string; tokens?: Omit<Session, "user"> };

describe("a role change", () => {
  test("a demoted admin's token is refused at once: no admin request, no promoting itself back", async () => {
    const demoted = await stack.registerAdmin();
    expect((await stack.fetch("/users", { headers: bearer(demoted) })).status).toBe(200);
    expect((await put(demoted.user.id, admin, { role: "user" })).status).toBe(200);
    await expectProblem(await stack.fetch("/users", { headers: bearer(demoted) }), 401);
    await expectProblem(await put(demoted.user.id, demoted, { role: "admin" }), 401);
    // Its session goes on with what it now is: a refresh gets a user's token.
    const renewed = await bodyOf<Session>(await refresh(demoted));
    expect(renewed.user.role).toBe("user");
    await expectProblem(await stack.fetch("/users", { headers: bearer(renewed) }), 403);
    await expectProblem(await put(demoted.user.id, renewed, { role: "admin" }), 403);
  });
});

describe("a password change", () => {
  test("of one's own needs current_password: 422 without it, 401 when wrong, and nothing changes", async () => {
    const session = await stack.register();
    const missing = await expectProblem(await put(session.user.id, session, { password: "a brand new passphrase" }), 422);
    expect(missing.detail + JSON.stringify(missing.errors ?? [])).toContain("current_password");
    await expectProblem(
      await put(session.user.id, session, { password: "a brand new passphrase", current_password: "not it at all" }),
      401,
    );
    await expectAlive(session);
    expect((await stack.login(session.user.email)).user.id).toBe(session.user.id);
  });

  test("of one's own email needs current_password too; the same email again doesn't", async () => {
    const session = await stack.register();
    await expectProblem(await put(session.user.id, session, { email: uniqueEmail() }), 422);
    expect((await put(session.user.id, session, { email: session.user.email, name: "Same Email" })).status).toBe(200);
  });

  test("ends every other session; the session that made it goes on with the fresh pair in the answer", async () => {
    const session = await stack.register();
    const thief = await stack.login(session.user.email);
    const res = await put(session.user.id, session, { password: "a brand new passphrase", current_password: PASSWORD });
    expect(res.status).toBe(200);
    const { tokens } = await bodyOf<Updated>(res);
    // (Checked field by field: bun's toMatchObject with expect.any() writes the matchers into the object it checks.)
    expect([tokens?.token_type, typeof tokens?.access_token, typeof tokens?.refresh_token]).toEqual(["Bearer", "string", "string"]);
    await expectEnded(thief);
    await expectProblem(await me(session), 401); // the old access token is stale too
    const fresh = { ...session, ...tokens! };
    await expectAlive(fresh);
    expect((await refresh(fresh)).status).toBe(200);
    await expectProblem(await stack.fetch("/auth/login", jsonInit("POST", { email: session.user.email, password: PASSWORD })), 401);
  });

  test("by an admin for another user needs no current_password and ends every session of that user", async () => {
    const user = await stack.register();
    const res = await put(user.user.id, admin, { password: "set by the admin 123" });
    expect(res.status).toBe(200);
    expect((await bodyOf<Updated>(res)).tokens).toBeUndefined();
    await expectEnded(user);
    await expectAlive(admin);
    expect((await stack.login(user.user.email, "set by the admin 123")).user.id).toBe(user.user.id);
  });
});

describe("delete and restore", () => {
  test("a restore long after the delete leaves the old refresh tokens dead (the access-token mark has expired by then)", async () => {
    const user = await stack.register();
    expect((await stack.fetch(`/users/${user.user.id}`, { method: "DELETE", headers: bearer(admin) })).status).toBe(204);
    // As if JWT_EXPIRATION_HOURS had passed: the access-token mark is gone, the sessions' mark is not.
    await stack.svc.store.cache.delete(`revoked:access:{user:${user.user.id}}`);
    expect((await stack.fetch(`/users/${user.user.id}/restore`, { method: "POST", headers: bearer(admin) })).status).toBe(200);
    await expectProblem(await refresh(user), 401);
    expect((await stack.login(user.user.email)).user.id).toBe(user.user.id);
  });

  test("20 logins racing a DELETE: no token works after the DELETE's 204", async () => {
    const user = await stack.register();
    const logins = Array.from({ length: 20 }, async (_, i) => {
      await Bun.sleep(i);
      const res = await stack.fetch("/auth/login", jsonInit("POST", { email: user.user.email, password: PASSWORD }));
      if (res.status === 200) return [await bodyOf<Session>(res)];
      await res.body?.cancel();
      return [];
    });
    await Bun.sleep(5);
    const deleted = await stack.fetch(`/users/${user.user.id}`, { method: "DELETE", headers: bearer(admin) });
    expect(deleted.status).toBe(204);
    const sessions = (await Promise.all(logins)).flat();
    for (const session of [user, ...sessions]) await expectEnded(session);
  });
});

describe("the last active admin", () => {
  test("can't be demoted or deleted (409); with another admin it can", async () => {
    const fresh = await startTestStack();
    try {
      const only = await fresh.registerAdmin();
      const demote = await fresh.fetch(`/users/${only.user.id}`, jsonInit("PUT", { role: "user" }, bearer(only)));
      expect((await expectProblem(demote, 409)).detail).toContain("last active admin");
      await expectProblem(await fresh.fetch(`/users/${only.user.id}`, { method: "DELETE", headers: bearer(only) }), 409);
      const second = await fresh.registerAdmin();
      expect((await fresh.fetch(`/users/${only.user.id}`, jsonInit("PUT", { role: "user" }, bearer(second)))).status).toBe(200);
      await expectProblem(await fresh.fetch(`/users/${second.user.id}`, { method: "DELETE", headers: bearer(second) }), 409);
    } finally {
      await fresh.close();
    }
  });

  test("two admins demoting each other at once: one wins, one admin remains", async () => {
    const fresh = await startTestStack();
    try {
      const [a, b] = [await fresh.registerAdmin(), await fresh.registerAdmin()];
      const [ab, ba] = await Promise.all([
        fresh.fetch(`/users/${b.user.id}`, jsonInit("PUT", { role: "user" }, bearer(a))),
        fresh.fetch(`/users/${a.user.id}`, jsonInit("PUT", { role: "user" }, bearer(b))),
      ]);
      // The loser is refused as the last admin (409), or its own token was voided first (401).
      expect([ab.status, ba.status].filter((status) => status === 200)).toHaveLength(1);
      expect([ab.status, ba.status].every((status) => [200, 401, 409].includes(status))).toBe(true);
      const roles = await Promise.all([a, b].map(async (s) => (await fresh.svc.users.getUser({ id: s.user.id })).role));
      expect(roles.sort()).toEqual(["admin", "user"]);
    } finally {
      await fresh.close();
    }
  });
});

async function expectEnded(session: Session) {
  await expectProblem(await me(session), 401);
  await expectProblem(await refresh(session), 401);
}

async function expectAlive(session: Session) {
  expect((await me(session)).status).toBe(200);
}
