import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, expectProblem, forgeToken, startTestStack, type Session, type TestStack } from "../../test/stack.ts";

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

describe("requireAdmin", () => {
  test("answers 403 to a user and lets an admin through", async () => {
    await expectProblem(await stack.fetch("/users", { headers: bearer(session) }), 403);
    expect((await stack.fetch("/users", { headers: bearer(await stack.registerAdmin()) })).status).toBe(200);
  });
});
