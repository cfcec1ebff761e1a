import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, bodyOf, expectProblem, jsonInit, type Session, sessionIdOf, startTestStack, type TestStack } from "../../../test/stack.ts";

let stack: TestStack;
let admin: Session;
beforeAll(async () => {
  stack = await startTestStack();
  admin = await stack.registerAdmin();
});
afterAll(() => stack.close());

type SessionJson = { id: string; created_at: string; last_used_at: string; user_agent: string; ip: string; current: boolean };
const me = (session: Session) => stack.fetch("/users/me", { headers: bearer(session) });
const refresh = (session: Session) => stack.fetch("/auth/refresh", jsonInit("POST", { refresh_token: session.refresh_token }));
const list = async (session: Session) => {
  const res = await stack.fetch("/auth/sessions", { headers: bearer(session) });
  expect(res.status).toBe(200);
  return (await bodyOf<{ sessions: SessionJson[] }>(res)).sessions;
};
// Both the session's access token and its refresh token are refused.
async function expectEnded(session: Session) {
  await expectProblem(await me(session), 401);
  await expectProblem(await refresh(session), 401);
}
async function expectAlive(session: Session) {
  expect((await me(session)).status).toBe(200);
}

describe("GET /auth/sessions", () => {
  test("lists one session per sign-in with where and when, the request's own marked current", async () => {
    const first = await stack.register();
    const laptop = await bodyOf<Session>(
      await stack.fetch(
        "/auth/login",
        jsonInit("POST", { email: first.user.email, password: "correct horse battery staple" }, { "user-agent": "laptop/1.0" }),
      ),
    );
    const sessions = await list(laptop);
    expect(sessions.map((s) => s.id).sort()).toEqual([sessionIdOf(first), sessionIdOf(laptop)].sort());
    const current = sessions.find((s) => s.current);
    expect(current).toMatchObject({ id: sessionIdOf(laptop), user_agent: "laptop/1.0", ip: expect.any(String) });
    expect(Date.parse(current!.created_at)).toBeLessThanOrEqual(Date.parse(current!.last_used_at));
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
  });

  test("a refresh keeps the session (same id) and moves its last_used_at", async () => {
    const session = await stack.register();
    const [before] = await list(session);
    await Bun.sleep(5);
    const refreshed = await bodyOf<Session>(await refresh(session));
    expect(sessionIdOf(refreshed)).toBe(sessionIdOf(session));
    const [after] = await list(refreshed);
    expect(after!.id).toBe(before!.id);
    expect(Date.parse(after!.last_used_at)).toBeGreaterThan(Date.parse(before!.last_used_at));
  });
});

describe("ending sessions", () => {
  test("DELETE /auth/sessions/{id} ends that session at once (access and refresh token), and no other", async () => {
    const a = await stack.register();
    const b = await stack.login(a.user.email);
    expect((await stack.fetch(`/auth/sessions/${sessionIdOf(b)}`, { method: "DELETE", headers: bearer(a) })).status).toBe(204);
    await expectEnded(b);
    await expectAlive(a);
    expect((await list(a)).map((s) => s.id)).toEqual([sessionIdOf(a)]);
    // Ended, or another user's: the same 404.
    await expectProblem(await stack.fetch(`/auth/sessions/${sessionIdOf(b)}`, { method: "DELETE", headers: bearer(a) }), 404);
    const stranger = await stack.register();
    await expectProblem(await stack.fetch(`/auth/sessions/${sessionIdOf(stranger)}`, { method: "DELETE", headers: bearer(a) }), 404);
    await expectAlive(stranger);
    await expectProblem(await stack.fetch("/auth/sessions/not-a-session", { method: "DELETE", headers: bearer(a) }), 422);
  });

  test("POST /auth/logout ends every access token of the session, refreshed ones too", async () => {
    const session = await stack.register();
    const refreshed = await bodyOf<Session>(await refresh(session));
    expect((await stack.fetch("/auth/logout", { method: "POST", headers: bearer(session) })).status).toBe(204);
    await expectEnded(refreshed);
  });

  test("POST /auth/logout-all ends every session of the caller, its own included, and nobody else's", async () => {
    const a = await stack.register();
    const b = await stack.login(a.user.email);
    const stranger = await stack.register();
    expect((await stack.fetch("/auth/logout-all", { method: "POST", headers: bearer(a) })).status).toBe(204);
    await expectEnded(a);
    await expectEnded(b);
    await expectAlive(stranger);
    // Signing in again starts a fresh session.
    const again = await stack.login(a.user.email);
    expect((await list(again)).map((s) => s.id)).toEqual([sessionIdOf(again)]);
  });
});

describe("an admin and another user's sessions", () => {
  test("GET /users/{id}/sessions lists them; DELETE /users/{id}/sessions/{sid} ends one at once", async () => {
    const user = await stack.register();
    const phone = await stack.login(user.user.email);
    const res = await stack.fetch(`/users/${user.user.id}/sessions`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    const { sessions } = await bodyOf<{ sessions: SessionJson[] }>(res);
    expect(sessions.map((s) => s.id).sort()).toEqual([sessionIdOf(user), sessionIdOf(phone)].sort());
    expect(sessions.every((s) => !s.current)).toBe(true);
    const end = await stack.fetch(`/users/${user.user.id}/sessions/${sessionIdOf(phone)}`, { method: "DELETE", headers: bearer(admin) });
    expect(end.status).toBe(204);
    await expectEnded(phone);
    await expectAlive(user);
    // A session of another user under this id: 404, and it stays alive.
    const other = await stack.register();
    const wrong = await stack.fetch(`/users/${user.user.id}/sessions/${sessionIdOf(other)}`, { method: "DELETE", headers: bearer(admin) });
    await expectProblem(wrong, 404);
    await expectAlive(other);
  });

  test("a user gets 403 on another's sessions and on their own through /users; a missing user is 404", async () => {
    const user = await stack.register();
    await expectProblem(await stack.fetch(`/users/${admin.user.id}/sessions`, { headers: bearer(user) }), 403);
    await expectProblem(await stack.fetch(`/users/${user.user.id}/sessions`, { headers: bearer(user) }), 403);
    await expectProblem(await stack.fetch(`/users/${crypto.randomUUID()}/sessions`, { headers: bearer(admin) }), 404);
  });
});
