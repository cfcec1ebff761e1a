import { expect, test } from "bun:test";
import { describeStores } from "../../test/stores.ts";
import type { Store } from "../../lib/redis/index.ts";
import { UnauthenticatedError } from "../../lib/errors.ts";
import { revokeUser } from "../../lib/tokens/revocation.ts";
import { silentLog } from "../../test/services.ts";
import { createRefreshTokens, type RefreshTokenOptions } from "./refresh.ts";

const SECRET = "test-jwt-secret-0123456789abcdefghijklmnop";
const allow = async (userId: string) => ({ userId });

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
  const setup = (options: Partial<RefreshTokenOptions> = {}) =>
    createRefreshTokens({ store: store(), secret: SECRET, ttlDays: 30, log: silentLog, now: () => clock, ...options });
  const userId = () => crypto.randomUUID();

  test("issue returns 256 random bits, base64url, and stores only a hash", async () => {
    const tokens = setup();
    const [a, b] = await Promise.all([tokens.issue(userId()), tokens.issue(userId())]);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
    const redis = store().redis;
    if (redis) {
      const keys = await redis.keys(`${prefix}refresh:*`);
      expect(keys.length).toBeGreaterThanOrEqual(4);
      const dump = JSON.stringify([keys, await redis.mget(...keys)]);
      expect(dump).not.toContain(a);
      expect(dump).not.toContain(b);
      expect(await redis.ttl(keys[0]!)).toBeGreaterThan(29 * 86_400);
    }
  });

  test("rotate returns a new token and authorize's value; the old one is refused after the grace window", async () => {
    const tokens = setup();
    const user = userId();
    const first = await tokens.issue(user);
    const { token: second, value } = await tokens.rotate(first, allow);
    expect(value).toEqual({ userId: user });
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    const { token: third } = await tokens.rotate(second, allow);
    expect(third).not.toBe(second);
  });

  test("the immediate parent presented again within the grace window gets the same child back", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await tokens.issue(userId());
    const { token: child } = await tokens.rotate(parent, allow);
    clock += 9_000;
    expect((await tokens.rotate(parent, allow)).token).toBe(child);
    // ...and the child still works: no second live member was created.
    const { token: grandchild } = await tokens.rotate(child, allow);
    expect(grandchild).not.toBe(child);
  });

  test("reuse after the grace window revokes the whole family, the newest member too", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await tokens.issue(userId());
    const { token: child } = await tokens.rotate(parent, allow);
    clock += 11_000;
    const error = await refused(tokens.rotate(parent, allow));
    expect(error.message).toContain("already used");
    await refused(tokens.rotate(child, allow));
    await refused(tokens.rotate(parent, allow));
  });

  test("a grandparent is never in grace: presenting it revokes the family", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const a = await tokens.issue(userId());
    const { token: b } = await tokens.rotate(a, allow);
    const { token: c } = await tokens.rotate(b, allow);
    await refused(tokens.rotate(a, allow));
    await refused(tokens.rotate(c, allow));
  });

  test("10 concurrent refreshes of one token all get the same single successor", async () => {
    const tokens = setup({ graceSeconds: 10 });
    const parent = await tokens.issue(userId());
    const results = await Promise.all(Array.from({ length: 10 }, () => tokens.rotate(parent, allow)));
    const successors = new Set(results.map((r) => r.token));
    expect(successors.size).toBe(1);
    const [only] = successors;
    clock += 11_000;
    // The one live member rotates on; the parent is now reuse.
    expect((await tokens.rotate(only!, allow)).token).not.toBe(only);
  });

  test("with no grace window, 10 concurrent refreshes leave at most one live member", async () => {
    const tokens = setup({ graceSeconds: 0 });
    const parent = await tokens.issue(userId());
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => tokens.rotate(parent, allow)));
    const issued = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.token] : []));
    expect(issued.length).toBeLessThanOrEqual(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(UnauthenticatedError);
    // Every token that came out is dead or the only live one: try them all.
    let live = 0;
    for (const token of new Set(issued))
      if (
        await tokens.rotate(token, allow).then(
          () => true,
          () => false,
        )
      )
        live++;
    expect(live).toBeLessThanOrEqual(1);
  });

  test("revoke ends every member of the family; unknown tokens answer false", async () => {
    const tokens = setup();
    const first = await tokens.issue(userId());
    const { token: second } = await tokens.rotate(first, allow);
    expect(await tokens.revoke(first)).toBe(true);
    expect((await refused(tokens.rotate(second, allow))).message).toBe("refresh token has been revoked");
    expect(await tokens.revoke("A".repeat(43))).toBe(false);
    expect(await tokens.revoke("garbage")).toBe(false);
  });

  test("other families of the same user are unaffected by a revocation", async () => {
    const tokens = setup();
    const user = userId();
    const [laptop, phone] = await Promise.all([tokens.issue(user), tokens.issue(user)]);
    await tokens.revoke(laptop);
    expect((await tokens.rotate(phone, allow)).token).toBeString();
  });

  test("authorize refusing (Unauthenticated) revokes the family; any other failure changes nothing", async () => {
    const tokens = setup();
    const token = await tokens.issue(userId());
    const down = async () => {
      throw new Error("user service unavailable");
    };
    await expect(tokens.rotate(token, down)).rejects.toThrow("user service unavailable");
    const gone = async () => {
      throw new UnauthenticatedError("user is gone");
    };
    const { token: next } = await tokens.rotate(token, allow);
    await refused(tokens.rotate(next, gone));
    await refused(tokens.rotate(next, allow));
  });

  test("tokens issued before the user was revoked (deleted) are refused", async () => {
    const tokens = setup({ now: Date.now });
    const user = userId();
    const token = await tokens.issue(user);
    await Bun.sleep(2);
    await revokeUser(store(), user, 60);
    await refused(tokens.rotate(token, allow));
  });

  test("a token issued a millisecond after the user was revoked (restored, then signed in) rotates", async () => {
    const tokens = setup({ now: () => Date.now() + 1 });
    const user = userId();
    await revokeUser(store(), user, 60);
    const token = await tokens.issue(user);
    expect((await tokens.rotate(token, allow)).value).toEqual({ userId: user });
  });

  test("an unused token expires after its TTL", async () => {
    const tokens = setup({ ttlDays: 0.3 / 86_400 });
    const token = await tokens.issue(userId());
    await Bun.sleep(450);
    expect((await refused(tokens.rotate(token, allow))).message).toBe("invalid refresh token");
  });

  test("garbage of any size is refused as Unauthenticated without an unexpected exception", async () => {
    const tokens = setup();
    for (const garbage of ["", "short", "A".repeat(43), "!".repeat(43), "x".repeat(100 * 1024), "😀".repeat(43)]) {
      expect((await refused(tokens.rotate(garbage, allow))).message).toBe("invalid refresh token");
    }
  });
});

test("createRefreshTokens refuses a non-positive lifetime or a negative grace window", () => {
  const store = {} as Store;
  expect(() => createRefreshTokens({ store, secret: SECRET, ttlDays: 0 })).toThrow(RangeError);
  expect(() => createRefreshTokens({ store, secret: SECRET, ttlDays: 1, graceSeconds: -1 })).toThrow(RangeError);
});
