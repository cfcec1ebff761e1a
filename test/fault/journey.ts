// One client's whole journey through a gateway, for the suites that run the binaries on another
// Redis topology (cluster, sentinel): every answer is the expected one, and the rate limit is exact.
// Each call comes from its own client address (X-Forwarded-For, the gateway trusting 127.0.0.1), so
// the limits of one step don't spill into the next.
import { expect } from "bun:test";
import { call } from "../binaries.ts";
import { bodyOf, jsonInit, PASSWORD, type Session, uniqueEmail, type UserPageJson } from "../stack.ts";

let clients = 0;
/** clientAddress is a fresh documentation-range address for one step (never connected to). */
export const clientAddress = () => `198.51.100.${(++clients % 250) + 1}`;

/** send calls the gateway at base as a client at address. */
export function send(base: string, path: string, init: RequestInit = {}, address = clientAddress()): Promise<Response> {
  return call(base, path, { ...init, headers: { ...(init.headers as Record<string, string>), "x-forwarded-for": address } });
}

const auth = (session: Pick<Session, "access_token">) => ({ authorization: `Bearer ${session.access_token}` });

/** journey registers, signs in, reads /users/me, refreshes (the token rotates), logs out (the access
 * and refresh tokens are revoked at once) and, once promote made the user an admin, lists users; it answers the user's email. */
export async function journey(base: string, promote: (email: string) => Promise<void>): Promise<string> {
  const email = uniqueEmail("topology");
  const registered = await send(base, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Topology" }));
  expect(registered.status).toBe(201);
  const login = () => send(base, "/auth/login", jsonInit("POST", { email, password: PASSWORD }));
  const first = await login();
  expect(first.status).toBe(200);
  const session = await bodyOf<Session>(first);
  for (let i = 0; i < 2; i++) {
    const me = await send(base, "/users/me", { headers: auth(session) });
    expect(me.status).toBe(200);
    expect((await bodyOf<Session["user"]>(me)).email).toBe(email);
  }
  const refreshed = await send(base, "/auth/refresh", jsonInit("POST", { refresh_token: session.refresh_token }));
  expect(refreshed.status).toBe(200);
  const next = await bodyOf<Session>(refreshed);
  expect(next.refresh_token).not.toBe(session.refresh_token);
  expect((await send(base, "/users/me", { headers: auth(next) })).status).toBe(200);

  const again = await bodyOf<Session>(await login());
  expect((await send(base, "/auth/logout", { method: "POST", headers: auth(again) })).status).toBe(204);
  expect((await send(base, "/users/me", { headers: auth(again) })).status).toBe(401);
  expect((await send(base, "/auth/refresh", jsonInit("POST", { refresh_token: again.refresh_token }))).status).toBe(401);

  await promote(email);
  const admin = await bodyOf<Session>(await login());
  expect(admin.user.role).toBe("admin");
  const list = await send(base, "/users?page_size=100", { headers: auth(admin) });
  expect(list.status).toBe(200);
  expect((await bodyOf<UserPageJson>(list)).users.map((u) => u.email)).toContain(email);
  return email;
}

/** expectExactLimit sends max + 1 requests from one address: max answer 200, the next 429 with Retry-After. */
export async function expectExactLimit(base: string, path: string, max: number, init: RequestInit = {}): Promise<void> {
  const address = clientAddress();
  const statuses: number[] = [];
  for (let i = 0; i <= max; i++) {
    const res = await send(base, path, init, address);
    statuses.push(res.status);
    if (i === max) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  }
  expect(statuses).toEqual([...Array.from({ length: max }, () => statuses[0]!), 429]);
  expect(statuses[0]).not.toBe(429);
}

/** failsClosed sends a mix of requests: each answers within 4 s with 429 or 503 and a Retry-After, never a 500. */
export async function expectFailsClosed(base: string, session: Session): Promise<void> {
  const requests: [string, () => Promise<Response>][] = [
    ["POST /auth/login", () => send(base, "/auth/login", jsonInit("POST", { email: session.user.email, password: PASSWORD }))],
    ["POST /auth/refresh", () => send(base, "/auth/refresh", jsonInit("POST", { refresh_token: session.refresh_token }))],
    ["GET /users/me", () => send(base, "/users/me", { headers: auth(session) })],
    ["GET /users/{id}", () => send(base, `/users/${session.user.id}`, { headers: auth(session) })],
  ];
  for (const [name, request] of requests) {
    const started = performance.now();
    const res = await request();
    const answer = {
      name,
      status: res.status,
      retryAfter: Number(res.headers.get("retry-after")) > 0,
      fast: performance.now() - started < 4000,
    };
    expect(answer).toEqual({ name, status: answer.status === 503 ? 503 : 429, retryAfter: true, fast: true });
  }
}
