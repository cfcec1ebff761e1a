// One-time moves of Redis keys to the names a newer release reads. The user service runs them at
// start, after its SQL migrations (it owns migrations); combined mode too.
//
// "hash-tags" (issue #18, Redis Cluster): every key about one user moved under the hash tag
// {user:<id>} and every lock under lock:{<name>}. Before, the marks that void tokens were
// `revoked:user:<id>`, `revoked:sessions:<id>` and `revoked:session:<sid>`; read no more, they
// would let tokens revoked before the upgrade work again after it. Each old key is copied to its
// new name with the same expiry (PEXPIRETIME → SET PXAT: Redis ≥ 7.0), never over a newer value:
//
//   revoked:user:<id>          → revoked:access:{user:<id>}           (a time in ms)
//   revoked:sessions:<id>      → revoked:sessions:{user:<id>}         (a time in ms)
//   revoked:session:<sid>      → revoked:session:{user:<id>}:<sid>    (the user: from the session's
//                                refresh-token records or its family; a mark with neither voids
//                                nothing that still lives, since those records outlive the tokens)
//   refresh:family:<sid>       → refresh:family:{user:<id>}:<sid>     (the record names its user)
//   refresh:user:<id>          → refresh:sessions:{user:<id>}         (merged with a newer index)
//   lock:<name>:fence          → lock:{<name>}:fence                  (the larger counter: fencing
//                                tokens never go back)
//
// The new names are lib/tokens/revocation.ts's, services/auth/refresh.ts's and lib/redis/locks.ts's;
// lib/redis/key-migrations.test.ts reads the marks and fences back through revocation.ts and the
// locks themselves (lib/ can't import the auth service: its two names are spelled here). Old keys are
// left to expire, so binaries of the previous release still running during a rollout keep reading
// them. Each copy is idempotent and several replicas may run it at once; once a pass completes,
// its name goes into the set `migrations:redis-keys` and later starts skip it. On a cluster every
// master is scanned; the in-process store has nothing from an older release.
import type { Logger } from "../log.ts";
import { scanKeys } from "./scan.ts";
import { KEY_PREFIXES, type RedisClient, type Store, userTag } from "./types.ts";

/** APPLIED is the set of key migrations done (under REDIS_KEY_PREFIX); it never expires. */
export const APPLIED = "migrations:redis-keys";
const HASH_TAGS = "hash-tags";

// KEYS: new index · ARGV: old index (JSON array), its expiry (unix ms; -1: none) → the union, older
// ids first (the index ends its oldest sessions first), kept as long as the longer-lived of the two.
const MERGE_INDEX = `local merged, seen = {}, {}
local function add(list) for _, id in ipairs(list) do if not seen[id] then seen[id] = true; merged[#merged + 1] = id end end end
add(cjson.decode(ARGV[1]))
local current = redis.call('GET', KEYS[1])
if current then add(cjson.decode(current)) end
if #merged == 0 then return 0 end
local at = math.max(tonumber(ARGV[2]), redis.call('PEXPIRETIME', KEYS[1]))
if at > 0 then redis.call('SET', KEYS[1], cjson.encode(merged), 'PXAT', at) else redis.call('SET', KEYS[1], cjson.encode(merged)) end
return 1`;
// KEYS: new fence counter · ARGV: the old one's value → 1 if raised to it.
const RAISE_FENCE = `if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0`;

export type KeyMigrationResult = { moved: number; unattributed: number };

/** migrateRedisKeys applies the key migrations not applied yet; null when there was nothing to do
 * (the in-process store, or already applied). A Redis failure throws: call it again later. */
export async function migrateRedisKeys(store: Store, log?: Logger): Promise<KeyMigrationResult | null> {
  const redis = store.redis;
  if (!redis) return null;
  await store.ping(); // waits for the connection (the raw client has no offline queue)
  const p = store.prefix;
  if (await redis.sismember(p + APPLIED, HASH_TAGS)) return null;
  const result = await moveToHashTags(redis, p);
  await redis.sadd(p + APPLIED, HASH_TAGS);
  log?.info("migrated Redis keys", { migration: HASH_TAGS, ...result });
  return result;
}

async function moveToHashTags(redis: RedisClient, p: string): Promise<KeyMigrationResult> {
  let moved = 0;
  // The old key's expiry as a point in time (the server's clock), so the copy never outlives it.
  const expiry = async (key: string) => Number(await redis.call("PEXPIRETIME", key));
  const copy = async (from: string, to: string) => {
    const [value, at] = await Promise.all([redis.get(from), expiry(from)]);
    if (value === null || at === -2) return;
    // NX: a key under the new name was written by the new release, after the old one: it wins.
    const done = at > 0 ? await redis.set(to, value, "PXAT", at, "NX") : await redis.set(to, value, "NX");
    if (done) moved++;
  };
  // Each old pattern's keys, minus the new names that the same pattern also matches (`{…}`).
  const old = (pattern: string) => oldKeys(redis, p + pattern, (rest) => !rest.includes("{"));
  const rest = (key: string, namespace: string) => key.slice(p.length + namespace.length);

  for await (const key of old("revoked:user:*")) await copy(key, `${p}revoked:access:${userTag(rest(key, "revoked:user:"))}`);
  for await (const key of old("revoked:sessions:*")) await copy(key, `${p}revoked:sessions:${userTag(rest(key, "revoked:sessions:"))}`);

  // Sessions' users: from their families (live sessions), then their refresh-token records.
  const userOf = new Map<string, string>();
  for await (const key of old("refresh:family:*")) {
    const sid = rest(key, "refresh:family:");
    const userId = parse<{ userId?: unknown }>(await redis.get(key))?.userId;
    if (typeof userId !== "string") continue;
    userOf.set(sid, userId);
    await copy(key, `${p}refresh:family:${userTag(userId)}:${sid}`);
  }
  for await (const key of old("refresh:user:*")) {
    const [value, at] = await Promise.all([redis.get(key), expiry(key)]);
    if (value === null || at === -2 || !Array.isArray(parse(value))) continue;
    if (await redis.eval(MERGE_INDEX, 1, `${p}refresh:sessions:${userTag(rest(key, "refresh:user:"))}`, value, at)) moved++;
  }

  const ended: string[] = [];
  for await (const key of old("revoked:session:*")) ended.push(rest(key, "revoked:session:"));
  if (ended.some((sid) => !userOf.has(sid))) {
    for await (const key of oldKeys(redis, `${p}refresh:token:*`, () => true)) {
      const record = parse<{ userId?: unknown; familyId?: unknown }>(await redis.get(key));
      if (typeof record?.userId === "string" && typeof record.familyId === "string") userOf.set(record.familyId, record.userId);
    }
  }
  let unattributed = 0;
  for (const sid of ended) {
    const userId = userOf.get(sid);
    if (userId === undefined) unattributed++;
    else await copy(`${p}revoked:session:${sid}`, `${p}revoked:session:${userTag(userId)}:${sid}`);
  }

  const lock = KEY_PREFIXES.lock;
  for await (const key of oldKeys(redis, `${p}${lock}*:fence`, (name) => !name.startsWith("{"))) {
    const value = await redis.get(key);
    const name = key.slice(p.length + lock.length, -":fence".length);
    if (value !== null && (await redis.eval(RAISE_FENCE, 1, `${p}${lock}{${name}}:fence`, value))) moved++;
  }
  return { moved, unattributed };
}

/** oldKeys yields the keys matching pattern whose part after the pattern's fixed start passes keep. */
async function* oldKeys(redis: RedisClient, pattern: string, keep: (rest: string) => boolean): AsyncGenerator<string> {
  const start = pattern.slice(0, pattern.indexOf("*"));
  for await (const keys of scanKeys(redis, pattern)) for (const key of keys) if (keep(key.slice(start.length))) yield key;
}

function parse<T>(json: string | null): T | null {
  if (json === null) return null;
  try {
    return JSON.parse(json) as T;
  } catch {
    return null;
  }
}
