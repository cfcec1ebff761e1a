import { afterEach, expect, setSystemTime, test } from "bun:test";
import { describeStores } from "../../test/stores.ts";
import { createRevocations, isRevoked, revocationKeys, revokedBy } from "./revocation.ts";
import { createAccessTokens } from "./tokens.ts";

const tokens = createAccessTokens({ secret: "test-jwt-secret-0123456789abcdefghijklmnop", expirationHours: 1 });
// The start of a whole second: every step below happens within it, so all tokens share one iat.
const SECOND = Math.floor(Date.now() / 1000) * 1000;
const at = (ms: number) => setSystemTime(new Date(SECOND + ms));
const newUser = () => ({ id: crypto.randomUUID(), email: "ada@example.com", role: "user" });
const issueAndVerify = async (user: ReturnType<typeof newUser>, sid: string = crypto.randomUUID()) =>
  tokens.verify((await tokens.issue(user, sid)).token);
const LIFETIMES = { accessSeconds: 3600, refreshSeconds: 30 * 86_400 };

describeStores("revocation", (store, prefix) => {
  afterEach(() => setSystemTime());
  const revocations = () => createRevocations(store(), LIFETIMES);

  test("an access token issued after voidAccessTokens in the same second is accepted (a restored user signing in again)", async () => {
    const user = newUser();
    at(100);
    await revocations().voidAccessTokens(user.id);
    at(200);
    expect(await isRevoked(store(), await issueAndVerify(user))).toBe(false);
  });

  test("an access token issued earlier in the same second as the mark, or in the same millisecond, stays revoked", async () => {
    const user = newUser();
    at(100);
    const early = await issueAndVerify(user);
    at(500);
    const sameMs = await issueAndVerify(user);
    expect(await revocations().voidAccessTokens(user.id)).toBe(SECOND + 500);
    expect(await isRevoked(store(), early)).toBe(true);
    expect(await isRevoked(store(), sameMs)).toBe(true);
    at(501);
    expect(await isRevoked(store(), await issueAndVerify(user))).toBe(false);
  });

  test("issue with notBeforeMs signs strictly after the mark, so the mark spares it", async () => {
    const user = newUser();
    const mark = await revocations().voidAccessTokens(user.id);
    const claims = await tokens.verify((await tokens.issue(user, crypto.randomUUID(), mark)).token);
    expect(claims.iatMs).toBeGreaterThan(mark);
    expect(await isRevoked(store(), claims)).toBe(false);
  });

  test("endSession voids every access token of that session and none of another", async () => {
    const user = newUser();
    const sid = crypto.randomUUID();
    const [a, b, other] = await Promise.all([issueAndVerify(user, sid), issueAndVerify(user, sid), issueAndVerify(user)]);
    await revocations().endSession(user.id, sid);
    expect(await isRevoked(store(), a)).toBe(true);
    expect(await isRevoked(store(), b)).toBe(true);
    expect(await isRevoked(store(), other)).toBe(false);
    expect(await revocations().sessionEnded({ sid, userId: user.id, issuedAtMs: Date.now() })).toBe(true);
  });

  test("sessionEnded orders refresh credentials by the millisecond against endAllSessions; voidAccessTokens leaves them", async () => {
    const user = newUser();
    const sid = crypto.randomUUID();
    at(500);
    await revocations().voidAccessTokens(user.id);
    expect(await revocations().sessionEnded({ sid, userId: user.id, issuedAtMs: SECOND + 400 })).toBe(false);
    await revocations().endAllSessions(user.id);
    expect(await revocations().sessionEnded({ sid, userId: user.id, issuedAtMs: SECOND + 499 })).toBe(true);
    expect(await revocations().sessionEnded({ sid, userId: user.id, issuedAtMs: SECOND + 500 })).toBe(true);
    expect(await revocations().sessionEnded({ sid, userId: user.id, issuedAtMs: SECOND + 501 })).toBe(false);
    expect(await revocations().accessMark(user.id)).toBe(SECOND + 500);
  });

  test("each mark lives as long as what it voids: sessions' marks as long as a refresh token", async () => {
    const redis = store().redis;
    if (!redis) return; // TTLs are Redis's to report
    const user = newUser();
    const sid = crypto.randomUUID();
    await revocations().endAllSessions(user.id);
    await revocations().endSession(user.id, sid);
    expect(await redis.ttl(`${prefix}revoked:sessions:{user:${user.id}}`)).toBeGreaterThan(LIFETIMES.refreshSeconds);
    expect(await redis.ttl(`${prefix}revoked:session:{user:${user.id}}:${sid}`)).toBeGreaterThan(LIFETIMES.refreshSeconds);
    const accessTtl = await redis.ttl(`${prefix}revoked:access:{user:${user.id}}`);
    expect(accessTtl).toBeGreaterThan(LIFETIMES.accessSeconds);
    expect(accessTtl).toBeLessThan(LIFETIMES.accessSeconds + 120);
  });

  test("revokedBy decides from the marks read elsewhere (with a rate-limit hit) exactly as isRevoked does", async () => {
    const user = newUser();
    const ended = crypto.randomUUID();
    at(100);
    const early = await issueAndVerify(user);
    const inEnded = await issueAndVerify(user, ended);
    await revocations().endSession(user.id, ended);
    at(200);
    await revocations().voidAccessTokens(user.id);
    at(300);
    const later = await issueAndVerify(user);
    for (const claims of [early, inEnded, later]) {
      const { values } = await store().rateLimit.checkAndGet(`revocation:${user.id}`, 100, 60, revocationKeys(claims));
      expect(revokedBy(claims, values)).toBe(await isRevoked(store(), claims));
    }
    expect([early, inEnded, later].map((claims) => revokedBy(claims, [null, null]))).toEqual([false, false, false]);
    expect(revokedBy(later, [null, SECOND + 301])).toBe(true);
    expect(revokedBy(later, [null, SECOND + 299])).toBe(false);
    expect(revokedBy(later, [1, null])).toBe(true);
    expect(revokedBy(later, [null, String(SECOND + 301)])).toBe(true);
  });
});
