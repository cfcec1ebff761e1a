import { expect, test } from "bun:test";
import { describeStores, scanKeys } from "../../test/stores.ts";
import type { Store } from "../../lib/redis/index.ts";
import { UnauthenticatedError } from "../../lib/errors.ts";
import { NotFoundError } from "../../lib/errors.ts";
import { createRevocations, type Revocations } from "../../lib/tokens/revocation.ts";
import { silentLog } from "../../test/services.ts";
import { createRefreshTokens, type RefreshTokenOptions } from "./refresh.ts";

const SECRET = "test-jwt-secret-0123456789abcdefghijklmnop";
const allow = async (userId: string) => ({ userId });
const CLIENT = { ip: "203.0.113.7", userAgent: "test-agent/1.0" };
const LIFETIMES = { accessSeconds: 3600, refreshSeconds: 30 * 86_400 };

async function refused(promise: Promise<unknown>): Promise<UnauthenticatedError> {
  const error = await promise.then(
    () => new Error("expected the refresh to be refused"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  return error as UnauthenticatedError;
}

describeStores("refresh tokens", (store, prefix) => {
  let clock = Date.now();
  const revocations = () => createRevocations(store(), LIFETIMES);
  const setup = (options: Partial<RefreshTokenOptions> = {}) =>
    createRefreshTokens({
      store: store(),
      revocations: revocations(),
      secret: SECRET,
      ttlDays: 30,
      log: silentLog,
      now: () => clock,
      ...options,
    });
  const issue = async (tokens: ReturnType<typeof setup>, user: string) => (await tokens.start(user, CLIENT)).token;
  const userId = () => crypto.randomUUID();

  test("issue returns 256 random bits, base64url, and stores only a hash", async () => {
    const tokens = setup();
    const [a, b] = await Promise.all([issue(tokens, userId()), issue(tokens, userId())]);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
    const redis = store().redis;
    if (redis) {
      const keys = await scanKeys(store(), `${prefix}refresh:*`);
      expect(keys.length).toBeGreaterThanOrEqual(4);
      const dump = JSON.stringify([keys, await Promise.all(keys.map((key) => redis.get(key)))]);
      expect(dump).not.toContain(a);
      expect(dump).not.toContain(b);
      expect(await redis.ttl(keys[0]!)).toBeGreaterThan(29 * 86_400);
    }
  });

  test("rotate returns a new token and authorize's value; the old one is refused after the grace window", async () => {
    const tokens = setup();
    const user = userId();
    const first = await issue(tokens, user);
    const { token: second, value } = await tokens.rotate(first, CLIENT, allow);
    expect(value).toEqual({ userId: user });
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    const { token: third } = await tokens.rotate(second, CLIENT, allow);
    expect(third).not.toBe(second);
  });

  test("the immediate parent presented again within the grace window gets the same child back", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await issue(tokens, userId());
    const { token: child } = await tokens.rotate(parent, CLIENT, allow);
    clock += 9_000;
    expect((await tokens.rotate(parent, CLIENT, allow)).token).toBe(child);
    // ...and the child still works: no second live member was created.
    const { token: grandchild } = await tokens.rotate(child, CLIENT, allow);
    expect(grandchild).not.toBe(child);
  });

  test("reuse after the grace window revokes the whole family, the newest member too", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await issue(tokens, userId());
    const { token: child } = await tokens.rotate(parent, CLIENT, allow);
    clock += 11_000;
    const error = await refused(tokens.rotate(parent, CLIENT, allow));
    expect(error.message).toContain("already used");
    await refused(tokens.rotate(child, CLIENT, allow));
    await refused(tokens.rotate(parent, CLIENT, allow));
  });

  test("a grandparent is never in grace: presenting it revokes the family", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const a = await issue(tokens, userId());
    const { token: b } = await tokens.rotate(a, CLIENT, allow);
    const { token: c } = await tokens.rotate(b, CLIENT, allow);
    await refused(tokens.rotate(a, CLIENT, allow));
    await refused(tokens.rotate(c, CLIENT, allow));
  });

  test("10 concurrent refreshes of one token all get the same single successor", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await issue(tokens, userId());
    const results = await Promise.all(Array.from({ length: 10 }, () => tokens.rotate(parent, CLIENT, allow)));
    const successors = new Set(results.map((r) => r.token));
    expect(successors.size).toBe(1);
    const [only] = successors;
    clock += 11_000;
    // The one live member rotates on; the parent is now reuse.
    expect((await tokens.rotate(only!, CLIENT, allow)).token).not.toBe(only);
  });

  test("with no grace window, 10 concurrent refreshes leave at most one live member", async () => {
    const tokens = setup({ graceSeconds: 0 });
    const parent = await issue(tokens, userId());
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => tokens.rotate(parent, CLIENT, allow)));
    const issued = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.token] : []));
    expect(issued.length).toBeLessThanOrEqual(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(UnauthenticatedError);
    // Every token that came out is dead or the only live one: try them all.
    let live = 0;
    for (const token of new Set(issued))
      if (
        await tokens.rotate(token, CLIENT, allow).then(
          () => true,
          () => false,
        )
      )
        live++;
    expect(live).toBeLessThanOrEqual(1);
  });

  test("end ends every member of the session; another user's or an unknown session is NotFound", async () => {
    const tokens = setup();
    const user = userId();
    const { sid, token: first } = await tokens.start(user, CLIENT);
    const { token: second } = await tokens.rotate(first, CLIENT, allow);
    await expect(tokens.end(userId(), sid)).rejects.toBeInstanceOf(NotFoundError);
    await tokens.end(user, sid);
    await refused(tokens.rotate(second, CLIENT, allow));
    await expect(tokens.end(user, sid)).rejects.toBeInstanceOf(NotFoundError);
    await expect(tokens.end(user, crypto.randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    await expect(tokens.end(user, "not-a-session")).rejects.toBeInstanceOf(NotFoundError);
    expect(await tokens.sessionOf(second)).toBeNull();
  });

  test("other sessions of the same user are unaffected when one ends", async () => {
    const tokens = setup();
    const user = userId();
    const [laptop, phone] = await Promise.all([tokens.start(user, CLIENT), tokens.start(user, CLIENT)]);
    await tokens.end(user, laptop.sid);
    expect((await tokens.rotate(phone.token, CLIENT, allow)).token).toBeString();
    expect((await tokens.list(user)).map((s) => s.id)).toEqual([phone.sid]);
  });

  test("list shows each live session with where and when it was used, most recently used first", async () => {
    const tokens = setup();
    const user = userId();
    const laptop = await tokens.start(user, { ip: "198.51.100.1", userAgent: "laptop" });
    clock += 1000;
    const phone = await tokens.start(user, { ip: "2001:db8::1", userAgent: "phone" });
    clock += 1000;
    await tokens.rotate(laptop.token, { ip: "198.51.100.2", userAgent: "laptop/2" }, allow);
    const sessions = await tokens.list(user);
    expect(sessions.map((s) => [s.id, s.ip, s.userAgent])).toEqual([
      [laptop.sid, "198.51.100.2", "laptop/2"],
      [phone.sid, "2001:db8::1", "phone"],
    ]);
    expect(sessions[0]!.lastUsedAt).toBe(clock);
    expect(sessions[0]!.createdAt).toBe(clock - 2000);
    expect(await tokens.list(userId())).toEqual([]);
  });

  test("endAllSessions ends every session started before it; renew gives the session that made a change a fresh token", async () => {
    const tokens = setup({ now: Date.now });
    const user = userId();
    const [keep, other] = await Promise.all([tokens.start(user, CLIENT), tokens.start(user, CLIENT)]);
    await Bun.sleep(2);
    const mark = await revocations().endAllSessions(user);
    const renewed = await tokens.renew(user, keep.sid, mark);
    expect(renewed).toBeString();
    await refused(tokens.rotate(keep.token, CLIENT, allow));
    await refused(tokens.rotate(other.token, CLIENT, allow));
    expect((await tokens.rotate(renewed!, CLIENT, allow)).sid).toBe(keep.sid);
    expect((await tokens.list(user)).map((s) => s.id)).toEqual([keep.sid]);
    expect(await tokens.renew(userId(), keep.sid, mark)).toBeNull();
  });

  test("a user's sessions are bounded: starting one more ends the oldest", async () => {
    const tokens = setup({ maxSessions: 3 });
    const user = userId();
    const started = [];
    for (let i = 0; i < 4; i++) started.push(await tokens.start(user, CLIENT));
    await refused(tokens.rotate(started[0]!.token, CLIENT, allow));
    expect((await tokens.list(user)).map((s) => s.id).sort()).toEqual(
      started
        .slice(1)
        .map((s) => s.sid)
        .sort(),
    );
  });

  test("authorize refusing (Unauthenticated) revokes the family; any other failure changes nothing", async () => {
    const tokens = setup();
    const token = await issue(tokens, userId());
    const down = async () => {
      throw new Error("user service unavailable");
    };
    await expect(tokens.rotate(token, CLIENT, down)).rejects.toThrow("user service unavailable");
    const gone = async () => {
      throw new UnauthenticatedError("user is gone");
    };
    const { token: next } = await tokens.rotate(token, CLIENT, allow);
    await refused(tokens.rotate(next, CLIENT, gone));
    await refused(tokens.rotate(next, CLIENT, allow));
  });

  test("tokens issued before the user's sessions were ended (a delete, a password change) are refused", async () => {
    const tokens = setup({ now: Date.now });
    const user = userId();
    const token = await issue(tokens, user);
    await Bun.sleep(2);
    await revocations().endAllSessions(user);
    await refused(tokens.rotate(token, CLIENT, allow));
  });

  test("a token issued a millisecond after the user's sessions were ended (restored, then signed in) rotates", async () => {
    const tokens = setup({ now: () => Date.now() + 1 });
    const user = userId();
    await revocations().endAllSessions(user);
    const token = await issue(tokens, user);
    expect((await tokens.rotate(token, CLIENT, allow)).value).toEqual({ userId: user });
  });

  test("an unused token expires after its TTL", async () => {
    const tokens = setup({ ttlDays: 0.3 / 86_400 });
    const token = await issue(tokens, userId());
    await Bun.sleep(450);
    expect((await refused(tokens.rotate(token, CLIENT, allow))).message).toBe("invalid refresh token");
  });

  test("garbage of any size is refused as Unauthenticated without an unexpected exception", async () => {
    const tokens = setup();
    for (const garbage of ["", "short", "A".repeat(43), "!".repeat(43), "x".repeat(100 * 1024), "😀".repeat(43)]) {
      expect((await refused(tokens.rotate(garbage, CLIENT, allow))).message).toBe("invalid refresh token");
    }
  });
});

test("createRefreshTokens refuses a non-positive lifetime or a negative grace window", () => {
  const store = {} as Store;
  const revocations = {} as Revocations;
  expect(() => createRefreshTokens({ store, revocations, secret: SECRET, ttlDays: 0 })).toThrow(RangeError);
  expect(() => createRefreshTokens({ store, revocations, secret: SECRET, ttlDays: 1, graceSeconds: -1 })).toThrow(RangeError);
});
