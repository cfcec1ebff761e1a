// The edge middleware's answers: every one — a route's, an error, a 404 — carries the request id
// and the security headers, and is counted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, type Session, startTestStack, type TestStack } from "../../test/stack.ts";
import { SECURITY_HEADERS } from "./security-headers.ts";

let stack: TestStack;
let session: Session;
beforeAll(async () => {
  stack = await startTestStack();
  session = await stack.register();
});
afterAll(() => stack.close());

describe("every answer", () => {
  test.each([
    ["a route's 200", "/users/me", true, 200],
    ["an authentication error", "/users/me", false, 401],
    ["a route that doesn't exist", "/no/such/route", false, 404],
    ["a permission error", "/users?page_size=0", true, 403],
  ] as const)("%s carries the security headers and the request id", async (_, path, authenticated, status) => {
    const res = await stack.fetch(path, { headers: { "x-request-id": "edge-1", ...(authenticated ? bearer(session) : {}) } });
    expect(res.status).toBe(status);
    for (const [name, value] of SECURITY_HEADERS) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get("x-request-id")).toBe("edge-1");
    await res.body?.cancel();
  });

  test("a 304 carries them too", async () => {
    const first = await stack.fetch("/users/me", { headers: bearer(session) });
    const etag = first.headers.get("etag")!;
    const res = await stack.fetch("/users/me", { headers: { ...bearer(session), "if-none-match": etag } });
    expect(res.status).toBe(304);
    for (const [name, value] of SECURITY_HEADERS) expect(res.headers.get(name)).toBe(value);
  });
});
