import { afterEach, expect, setSystemTime, test } from "bun:test";
import { describeStores } from "../../test/stores.ts";
import { isRevoked, isUserRevoked, revocationKeys, revokedBy, revokeToken, revokeUser } from "./revocation.ts";
import { createAccessTokens } from "./tokens.ts";

const tokens = createAccessTokens({ secret: "test-jwt-secret-0123456789abcdefghijklmnop", expirationHours: 1 });
// The start of a whole second: every step below happens within it, so all tokens share one iat.
const SECOND = Math.floor(Date.now() / 1000) * 1000;
const at = (ms: number) => setSystemTime(new Date(SECOND + ms));
const newUser = () => ({ id: crypto.randomUUID(), email: "ada@example.com", role: "user" });
const issueAndVerify = async (user: ReturnType<typeof newUser>) => tokens.verify((await tokens.issue(user)).token);

describeStores("revocation", (store) => {
  afterEach(() => setSystemTime());

  test("an access token issued after revokeUser in the same second is accepted (a restored user signing in again)", async () => {
    const user = newUser();
    at(100);
    await revokeUser(store(), user.id, 3600);
    at(101);
    const claims = await issueAndVerify(user);
    expect(claims.iat * 1000).toBe(SECOND);
    expect(await isRevoked(store(), claims)).toBe(false);
  });

  test("an access token issued earlier in the same second as revokeUser, or in the same millisecond, stays revoked", async () => {
    const user = newUser();
    at(100);
    const early = await issueAndVerify(user);
    at(900);
    const sameMs = await issueAndVerify(user);
    await revokeUser(store(), user.id, 3600);
    expect(await isRevoked(store(), early)).toBe(true);
    expect(await isRevoked(store(), sameMs)).toBe(true);
    at(901);
    expect(await isRevoked(store(), await issueAndVerify(user))).toBe(false);
  });

  test("revokeToken voids that token only", async () => {
    const user = newUser();
    const [revoked, other] = await Promise.all([issueAndVerify(user), issueAndVerify(user)]);
    await revokeToken(store(), revoked.jti, revoked.exp);
    expect(await isRevoked(store(), revoked)).toBe(true);
    expect(await isRevoked(store(), other)).toBe(false);
  });

  test("revokedBy decides from the marks read elsewhere (with a rate-limit hit) exactly as isRevoked does", async () => {
    const user = newUser();
    at(100);
    const [early, revoked] = await Promise.all([issueAndVerify(user), issueAndVerify(user)]);
    await revokeToken(store(), revoked.jti, revoked.exp);
    at(200);
    await revokeUser(store(), user.id, 3600);
    at(201);
    const later = await issueAndVerify(user);
    for (const claims of [early, revoked, later]) {
      const { values } = await store().rateLimit.checkAndGet(`revocation:${user.id}`, 100, 60, revocationKeys(claims));
      expect(revokedBy(claims, values)).toBe(await isRevoked(store(), claims));
    }
    expect([early, revoked, later].map((claims) => revokedBy(claims, [null, null]))).toEqual([false, false, false]);
    expect(revokedBy(later, [null, SECOND + 201])).toBe(true);
    expect(revokedBy(later, [null, SECOND + 200])).toBe(false);
    expect(revokedBy(later, [1, null])).toBe(true);
    expect(revokedBy(later, [null, String(SECOND + 201)])).toBe(true);
    expect(revokedBy(later, [null, String(SECOND + 200)])).toBe(false);
  });

  test("isUserRevoked orders credentials by the millisecond: before or at revokeUser refused, after it accepted", async () => {
    const user = newUser();
    at(500);
    await revokeUser(store(), user.id, 3600);
    expect(await isUserRevoked(store(), user.id, SECOND + 499)).toBe(true);
    expect(await isUserRevoked(store(), user.id, SECOND + 500)).toBe(true);
    expect(await isUserRevoked(store(), user.id, SECOND + 501)).toBe(false);
  });
});
