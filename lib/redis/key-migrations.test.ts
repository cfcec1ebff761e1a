import { expect, test } from "bun:test";
import { describeStores } from "../../test/stores.ts";
import { createRevocations, isRevoked } from "../tokens/revocation.ts";
import { APPLIED, migrateRedisKeys } from "./key-migrations.ts";
import { userTag } from "./types.ts";

const LIFETIMES = { accessSeconds: 3600, refreshSeconds: 30 * 86_400 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describeStores("Redis key migration (hash tags)", (store, prefix, kind) => {
  if (kind === "memory") {
    test("the in-process store has nothing from an older release: nothing to do", async () => {
      expect(await migrateRedisKeys(store())).toBeNull();
    });
    return;
  }

  const redis = () => store().redis!;
  const ttl = (key: string) => redis().pttl(prefix + key);
  /** writeOld writes a key under its pre-upgrade name, raw, with a TTL in ms (none when 0). */
  const writeOld = (key: string, value: unknown, ms: number) =>
    ms > 0 ? redis().set(prefix + key, JSON.stringify(value), "PX", ms) : redis().set(prefix + key, JSON.stringify(value));
  // The migration runs once per prefix: each test forgets that it ran (the copies are idempotent).
  const migrate = async () => {
    await redis().del(prefix + APPLIED);
    return migrateRedisKeys(store());
  };

  test("marks written before the upgrade move under {user:<id>} with their remaining TTL, and what they voided stays refused", async () => {
    const user = crypto.randomUUID();
    const [live, ended, orphan] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const mark = Date.now() - 60_000;
    const before = { sub: user, sid: live, iatMs: mark - 1000 }; // an access token the old mark voided
    const endedToken = { sub: user, sid: ended, iatMs: Date.now() - 1000 };
    await Promise.all([
      writeOld(`revoked:user:${user}`, mark, HOUR),
      writeOld(`revoked:sessions:${user}`, mark, 30 * DAY),
      writeOld(`revoked:session:${ended}`, 1, 30 * DAY),
      writeOld(`revoked:session:${orphan}`, 1, 30 * DAY), // no record names its user: nothing lives that it voids
      // The ended session's family is gone; a refresh-token record (name unchanged) names its user.
      writeOld(`refresh:token:${crypto.randomUUID()}`, { userId: user, familyId: ended, issuedAt: mark - 5000 }, 29 * DAY),
      writeOld(`refresh:family:${live}`, { userId: user, current: "h", previous: null, issuedAt: mark }, 29 * DAY),
      writeOld(`refresh:user:${user}`, [ended, live], 29 * DAY),
      writeOld(`lock:refresh-user:${user}:fence`, 7, 0),
    ]);
    const revocations = createRevocations(store(), LIFETIMES);
    // The upgrade's risk: the new names don't see the old marks.
    expect(await isRevoked(store(), before)).toBe(false);
    expect(await isRevoked(store(), endedToken)).toBe(false);

    const result = await migrate();
    expect(result!.moved).toBeGreaterThanOrEqual(6);
    expect(result!.unattributed).toBeGreaterThanOrEqual(1);

    expect(await isRevoked(store(), before)).toBe(true);
    expect(await isRevoked(store(), endedToken)).toBe(true);
    expect(await isRevoked(store(), { sub: user, sid: live, iatMs: Date.now() + 1 })).toBe(false);
    expect(await revocations.accessMark(user)).toBe(mark);
    expect(await revocations.sessionsEnded(user, [{ sid: live, issuedAtMs: mark }])).toEqual([true]);
    expect(await revocations.sessionsEnded(user, [{ sid: live, issuedAtMs: mark + 1 }])).toEqual([false]);

    // Each new key keeps what was left of its old key's lifetime: never more.
    const pairs = [
      [`revoked:user:${user}`, `revoked:access:${userTag(user)}`],
      [`revoked:sessions:${user}`, `revoked:sessions:${userTag(user)}`],
      [`revoked:session:${ended}`, `revoked:session:${userTag(user)}:${ended}`],
      [`refresh:family:${live}`, `refresh:family:${userTag(user)}:${live}`],
      [`refresh:user:${user}`, `refresh:sessions:${userTag(user)}`],
    ];
    for (const [from, to] of pairs) {
      const [oldTtl, newTtl] = [await ttl(from!), await ttl(to!)];
      expect({ to, positive: newTtl > 0, atMostOld: newTtl <= oldTtl }).toEqual({ to, positive: true, atMostOld: true });
    }
    expect(JSON.parse((await redis().get(`${prefix}refresh:sessions:${userTag(user)}`))!)).toEqual([ended, live]);
    expect(await redis().exists(`${prefix}revoked:session:${userTag(user)}:${orphan}`)).toBe(0);
    // Old keys stay until they expire: a previous release still running in a rollout reads them.
    expect(await redis().exists(`${prefix}revoked:user:${user}`)).toBe(1);

    // Fencing tokens never go back: the next lock on that name draws 8.
    expect(await ttl(`lock:{refresh-user:${user}}:fence`)).toBe(-1);
    await using lock = await store().locks.acquire(`refresh-user:${user}`);
    expect(lock.token).toBe(8);
  });

  test("a newer value under the new name wins; a newer session index is merged, older sessions first", async () => {
    const user = crypto.randomUUID();
    const [old1, new1] = [crypto.randomUUID(), crypto.randomUUID()];
    const oldMark = Date.now() - 120_000;
    await writeOld(`revoked:user:${user}`, oldMark, HOUR);
    await writeOld(`refresh:user:${user}`, [old1], 10 * DAY);
    const newMark = await createRevocations(store(), LIFETIMES).voidAccessTokens(user);
    await redis().set(`${prefix}refresh:sessions:${userTag(user)}`, JSON.stringify([new1]), "PX", 30 * DAY);

    await migrate();
    expect(await createRevocations(store(), LIFETIMES).accessMark(user)).toBe(newMark);
    expect(JSON.parse((await redis().get(`${prefix}refresh:sessions:${userTag(user)}`))!)).toEqual([old1, new1]);
    expect(await ttl(`refresh:sessions:${userTag(user)}`)).toBeGreaterThan(10 * DAY);
  });

  test("runs once: recorded when complete, a second run does nothing, and a rerun changes nothing", async () => {
    const user = crypto.randomUUID();
    const mark = Date.now() - 60_000;
    await writeOld(`revoked:user:${user}`, mark, HOUR);
    expect(await migrate()).not.toBeNull();
    expect(await redis().sismember(prefix + APPLIED, "hash-tags")).toBe(1);
    expect(await redis().pttl(prefix + APPLIED)).toBe(-1);
    expect(await migrateRedisKeys(store())).toBeNull();

    const first = await redis().get(`${prefix}revoked:access:${userTag(user)}`);
    await migrate();
    expect(await redis().get(`${prefix}revoked:access:${userTag(user)}`)).toBe(first);
    expect(await isRevoked(store(), { sub: user, sid: crypto.randomUUID(), iatMs: mark })).toBe(true);
  });
});
