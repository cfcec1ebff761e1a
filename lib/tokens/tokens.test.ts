import { describe, expect, test } from "bun:test";
import { base64url, decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { UnauthenticatedError } from "../errors.ts";
import { AccessTokenExpiredError, createAccessTokens, MAX_TOKEN_LENGTH } from "./tokens.ts";

const SECRET = "test-jwt-secret-0123456789abcdefghijklmnop";
const tokens = createAccessTokens({ secret: SECRET, expirationHours: 1 });
const USER = { id: "0190f0e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f", email: "ada@example.com", role: "user" };
const SID = "5b0f6f3e-2f59-4c1e-9d3a-8f2b1c4d5e6f";

const now = () => Math.floor(Date.now() / 1000);
// The jti is a UUIDv7 whose time lies within iat's second, as the auth service issues it.
const validClaims = (iat = now()): JWTPayload => ({
  sub: USER.id,
  sid: SID,
  email: USER.email,
  role: "user",
  typ: "access",
  jti: Bun.randomUUIDv7("hex", iat * 1000 + 123),
  iss: "bun-api-starter",
  aud: "bun-api-starter",
  iat,
  exp: now() + 600,
});

/** forge signs claims the way an attacker or a misconfigured peer might. */
function forge(
  claims: JWTPayload,
  { secret = SECRET, alg = "HS256", typ = "at+jwt" }: { secret?: string; alg?: string; typ?: string | null } = {},
) {
  return new SignJWT(claims).setProtectedHeader(typ === null ? { alg } : { alg, typ }).sign(new TextEncoder().encode(secret));
}

async function rejection(token: unknown): Promise<Error> {
  try {
    await tokens.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthenticatedError);
    return error as Error;
  }
  throw new Error("expected verify to reject");
}

describe("issue", () => {
  test("signs HS256 with an explicit type and every claim the gateway needs", async () => {
    const issued = await tokens.issue(USER, SID);
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: "HS256", typ: "at+jwt" });
    const payload = decodeJwt(issued.token);
    expect(payload).toMatchObject({
      sub: USER.id,
      sid: SID,
      email: USER.email,
      role: "user",
      typ: "access",
      jti: issued.jti,
      iss: "bun-api-starter",
      aud: "bun-api-starter",
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(issued.expiresIn).toBe(3600);
    expect(issued.expiresAt).toBe(payload.exp!);
  });

  test("verify returns the claims of an issued token; every token gets its own jti", async () => {
    const [a, b] = await Promise.all([tokens.issue(USER, SID), tokens.issue({ ...USER, role: "admin" }, SID)]);
    const claims = await tokens.verify(a.token);
    expect(claims).toMatchObject({ sub: USER.id, email: USER.email, role: "user", jti: a.jti, typ: "access" });
    expect((await tokens.verify(b.token)).role).toBe("admin");
    expect(a.jti).not.toBe(b.jti);
  });

  test("the jti is a UUIDv7 holding the issue time in milliseconds, within iat's second; verify returns it as iatMs", async () => {
    const before = Date.now();
    const issued = await tokens.issue(USER, SID);
    const claims = await tokens.verify(issued.token);
    expect(issued.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims.iatMs).toBeGreaterThanOrEqual(before);
    expect(claims.iatMs).toBeLessThanOrEqual(Date.now());
    expect(Math.floor(claims.iatMs / 1000)).toBe(claims.iat);
  });

  test("refuses to issue for an unknown role, and refuses bad options at creation", async () => {
    await expect(tokens.issue({ ...USER, role: "root" }, SID)).rejects.toThrow();
    expect(() => createAccessTokens({ secret: "short", expirationHours: 1 })).toThrow(RangeError);
    expect(() => createAccessTokens({ secret: SECRET, expirationHours: 0 })).toThrow(RangeError);
  });

  test("a custom issuer and audience are pinned both ways", async () => {
    const other = createAccessTokens({ secret: SECRET, expirationHours: 1, issuer: "other", audience: "other-api" });
    const token = (await other.issue(USER, SID)).token;
    expect((await other.verify(token)).sub).toBe(USER.id);
    await rejection(token);
    await expect(other.verify((await tokens.issue(USER, SID)).token)).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});

describe("verify rejects with Unauthenticated", () => {
  test("a correctly shaped token forged with jose is accepted (the baseline for the cases below)", async () => {
    expect((await tokens.verify(await forge(validClaims()))).sub).toBe(USER.id);
  });

  test("a token signed with another secret", async () => {
    const error = await rejection(await forge(validClaims(), { secret: "another-secret-0123456789abcdefghijklmnop" }));
    expect(error.message).toBe("invalid access token");
  });

  test("an unsecured alg: none token, and a none token carrying the real token's claims", async () => {
    await rejection(new UnsecuredJWT(validClaims()).encode());
    const real = await tokens.issue(USER, SID);
    const [, payload] = real.token.split(".");
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "at+jwt" }));
    await rejection(`${header}.${payload}.`);
  });

  test("another HMAC algorithm with the same secret (the algorithm is pinned)", async () => {
    await rejection(await forge(validClaims(), { alg: "HS512" }));
  });

  test("an expired token, as AccessTokenExpiredError, but not one within the 30 s skew", async () => {
    const error = await rejection(await forge({ ...validClaims(now() - 700), exp: now() - 60 }));
    expect(error).toBeInstanceOf(AccessTokenExpiredError);
    expect(error.message).toBe("access token expired");
    expect((await tokens.verify(await forge({ ...validClaims(now() - 700), exp: now() - 10 }))).sub).toBe(USER.id);
  });

  test("a token not yet valid (nbf or iat in the future beyond the skew)", async () => {
    await rejection(await forge({ ...validClaims(), nbf: now() + 120 }));
    await rejection(await forge({ ...validClaims(now() + 120), exp: now() + 600 }));
  });

  test("a token older than the configured lifetime even if its exp says otherwise", async () => {
    await rejection(await forge({ ...validClaims(now() - 7200), exp: now() + 600 }));
  });

  test("a jti that isn't a lower-case UUIDv7, or whose time isn't within iat's second", async () => {
    const claims = validClaims();
    const iatMs = (claims.iat as number) * 1000;
    await rejection(await forge({ ...claims, jti: crypto.randomUUID() }));
    await rejection(await forge({ ...claims, jti: (claims.jti as string).toUpperCase() }));
    await rejection(await forge({ ...claims, jti: "not-a-uuid" }));
    await rejection(await forge({ ...claims, jti: Bun.randomUUIDv7("hex", iatMs - 1) }));
    await rejection(await forge({ ...claims, jti: Bun.randomUUIDv7("hex", iatMs + 1000) }));
    expect((await tokens.verify(await forge({ ...claims, jti: Bun.randomUUIDv7("hex", iatMs + 999) }))).iatMs).toBe(iatMs + 999);
  });

  test.each(["sub", "sid", "email", "role", "jti", "iat", "exp", "typ", "iss", "aud"])("a token without the %s claim", async (claim) => {
    const claims = validClaims();
    delete claims[claim];
    await rejection(await forge(claims));
  });

  test("claims of the wrong type or value (role, sid, sub, exp)", async () => {
    await rejection(await forge({ ...validClaims(), role: "root" }));
    await rejection(await forge({ ...validClaims(), sid: "not-a-session" }));
    // Deliberately ill-typed claims, as a foreign issuer could send them.
    await rejection(await forge({ ...validClaims(), sub: 42 } as unknown as JWTPayload));
    await rejection(await forge({ ...validClaims(), exp: "tomorrow" } as unknown as JWTPayload));
  });

  test("a wrong issuer or audience", async () => {
    await rejection(await forge({ ...validClaims(), iss: "evil" }));
    await rejection(await forge({ ...validClaims(), aud: "another-api" }));
  });

  test("a refresh-typed token, by claim or by header", async () => {
    await rejection(await forge({ ...validClaims(), typ: "refresh" }));
    await rejection(await forge(validClaims(), { typ: "rt+jwt" }));
    await rejection(await forge(validClaims(), { typ: null }));
  });

  test("a truncated or tampered token", async () => {
    const { token } = await tokens.issue(USER, SID);
    await rejection(token.slice(0, -5));
    await rejection(token.slice(0, token.lastIndexOf(".")));
    const [header, payload, signature] = token.split(".");
    const admin = base64url.encode(JSON.stringify({ ...decodeJwt(token), role: "admin" }));
    expect(payload).not.toBe(admin);
    await rejection(`${header}.${admin}.${signature}`);
  });

  test("garbage of any size and type, without an unexpected exception", async () => {
    const garbage: unknown[] = [
      "",
      "a",
      "..",
      "a.b.c",
      "Bearer x",
      "😀.😀.😀",
      "x".repeat(MAX_TOKEN_LENGTH + 1),
      "A".repeat(100 * 1024),
      `${"eyJ".repeat(30_000)}.${"e".repeat(1000)}.x`,
      `${base64url.encode("{}")}.${base64url.encode("[]")}.`,
      null,
      undefined,
      42,
      {},
    ];
    for (const value of garbage) await rejection(value);
  });
});
