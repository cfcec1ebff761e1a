// Every route's guard, read from the OpenAPI document (`security`, and `x-required-role: admin` on
// admin-only operations), must match this table; and the document must tell the truth, which the
// second half checks by calling each route without a token and with a plain user's token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, bodyOf, type Session, sessionIdOf, startTestStack, type TestStack } from "../../test/stack.ts";
import { createApp } from "../app.ts";

type Guard = "public" | "bearer" | "admin";

const GUARDS: Record<string, Guard> = {
  "GET /": "public",
  "GET /health": "public",
  "GET /health/live": "public",
  "GET /health/ready": "public",
  "POST /auth/register": "public",
  "POST /auth/login": "public",
  "POST /auth/refresh": "public",
  "POST /auth/logout": "bearer",
  "POST /auth/logout-all": "bearer",
  "GET /auth/sessions": "bearer",
  "DELETE /auth/sessions/{id}": "bearer",
  "POST /auth/password/forgot": "public",
  "POST /auth/password/reset": "public",
  "POST /auth/email/verify": "public",
  "POST /auth/email/verify/resend": "bearer",
  "GET /users/me": "bearer",
  "GET /users": "admin",
  "GET /users/{id}": "bearer",
  "PUT /users/{id}": "bearer",
  "DELETE /users/{id}": "admin",
  "POST /users/{id}/restore": "admin",
  "GET /users/{id}/sessions": "admin",
  "DELETE /users/{id}/sessions/{sid}": "admin",
};

// Served but not operations of the API: the document itself and Swagger UI, open to anyone.
const UNDOCUMENTED = [
  "GET /metrics",
  "GET /api-docs/openapi.json",
  "GET /swagger-ui",
  "GET /swagger-ui/",
  "GET /swagger-ui/init.js",
  "GET /swagger-ui/:asset",
];

type Operation = { security?: Record<string, string[]>[]; "x-required-role"?: string };
type Document = { paths: Record<string, Record<string, Operation>> };

let stack: TestStack;
let operations: [string, Operation][];
beforeAll(async () => {
  stack = await startTestStack();
  const doc = await bodyOf<Document>(await stack.fetch("/api-docs/openapi.json"));
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
});
afterAll(() => stack.close());

const guardOf = (op: Operation): Guard => {
  if (!op.security?.some((requirement) => "bearerAuth" in requirement)) return "public";
  return op["x-required-role"] === "admin" ? "admin" : "bearer";
};

describe("the OpenAPI document", () => {
  test("declares for every route the guard in this table", () => {
    expect(Object.fromEntries(operations.map(([route, op]) => [route, guardOf(op)]))).toEqual(GUARDS);
  });

  test("marks admin-only only on routes that need a token", () => {
    for (const [route, op] of operations) if (op["x-required-role"]) expect([route, guardOf(op)]).toEqual([route, "admin"]);
  });

  test("documents every route the app serves, but the document and Swagger UI", () => {
    const app = createApp({ ...stack.deps, isShuttingDown: () => false });
    const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
    const documented = Object.keys(GUARDS).map((route) => route.replaceAll(/\{(\w+)\}/g, ":$1"));
    expect([...served].sort()).toEqual([...documented, ...UNDOCUMENTED].sort());
  });
});

describe("each route enforces what the document declares", () => {
  const call = (route: string, session?: Session) => {
    const [method, path] = route.split(" ") as [string, string];
    const url = path.replace("{id}", session?.user.id ?? "00000000-0000-4000-8000-000000000000");
    const headers: Record<string, string> = session ? bearer(session) : {};
    if (method === "POST" || method === "PUT") headers["content-type"] = "application/json";
    return stack.fetch(url, { method, headers, body: method === "POST" || method === "PUT" ? "{}" : undefined });
  };

  test("without a token: 401 on bearer and admin routes, never 401 or 403 on public ones", async () => {
    for (const [route, guard] of Object.entries(GUARDS)) {
      const res = await call(route);
      await res.body?.cancel();
      expect([route, guard === "public" ? ![401, 403].includes(res.status) : res.status === 401]).toEqual([route, true]);
    }
  });

  test("with a user's token: 403 on admin routes, neither 401 nor 403 elsewhere", async () => {
    for (const [route, guard] of Object.entries(GUARDS)) {
      const session = await stack.register(); // one each: POST /auth/logout revokes its token
      const res = await call(route, session);
      await res.body?.cancel();
      expect([route, guard === "admin" ? res.status === 403 : ![401, 403].includes(res.status)]).toEqual([route, true]);
    }
  });

  test("with an admin's token: admin routes answer", async () => {
    const admin = await stack.registerAdmin();
    for (const [route, guard] of Object.entries(GUARDS)) {
      if (guard !== "admin") continue;
      const target = await stack.register();
      const [method, path] = route.split(" ") as [string, string];
      const targetPath = path.replace("{id}", target.user.id).replace("{sid}", sessionIdOf(target));
      const res = await stack.fetch(targetPath, { method, headers: bearer(admin) });
      await res.body?.cancel();
      expect([route, res.status < 400 || res.status === 409]).toEqual([route, true]);
    }
  });
});
