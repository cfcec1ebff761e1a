// Lua for locks, semaphores and a rate-limit hit that also reads keys, each script one atomic step
// on the Redis server. On a Redis Cluster a script's keys must share a slot: the lock and its fence
// counter share the lock's hash tag (locks.ts), and the rate-limit hit is run there with its
// counter alone, its reads sent beside it (redis.ts).
//
// Hand-written because redis-semaphore (checked at 5.8.0) can't meet two requirements:
// - its Mutex is a bare SET NX PX: no fencing token, and taking one in a second round trip would
//   let a stale holder draw a higher token than its successor;
// - its Semaphore scores permits by acquisition time on the client's clock and expires them by
//   the *current acquirer's* TTL (and PEXPIREs the whole set with it), so a permit taken with a
//   60 s TTL vanishes as soon as someone acquires with 1 s, and a count needs every TTL.
// Here a permit's score is its own expiry on the Redis clock: each one expires on its own,
// mixed TTLs are safe, and counting is one ZCOUNT.
import { createHash } from "node:crypto";
import { ReplyError } from "ioredis";
import type { RedisClient } from "./types.ts";

interface Script {
  lua: string;
  sha: string;
  /** keys is the number of keys the script takes, or its minimum when more may follow. */
  keys: number;
  moreKeys?: boolean;
}

function script(keys: number, lua: string, moreKeys = false): Script {
  return { lua, keys, moreKeys, sha: createHash("sha1").update(lua).digest("hex") };
}

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** SCRIPTS are the atomic lock, permit and rate-limit operations (KEYS and ARGV documented on each). */
export const SCRIPTS = {
  // Rate-limit hits that also read keys, one or many in one call (hit-batch.ts).
  // KEYS: for each hit, its rate-limit counter, then the keys it reads (on a cluster: one hit, its
  // counter alone) · ARGV: for each hit, its number of KEYS, window seconds, max
  // → for each hit: count, ms before its window resets, then the value of each key it reads (nil
  // when absent, and nil for all when count > max). The first lines of each hit are
  // rate-limiter-flexible's own script (RateLimiterRedis, one point), so these hits and its
  // consume() count on one counter with the same windows.
  rateLimitHits: script(
    1,
    `local out = {}
local k = 1
for a = 1, #ARGV, 3 do
  local count_keys = tonumber(ARGV[a])
  local window = ARGV[a + 1]
  local counter = KEYS[k]
  redis.call('SET', counter, 0, 'EX', window, 'NX')
  local count = redis.call('INCRBY', counter, 1)
  local ttl = redis.call('PTTL', counter)
  if ttl == -1 then
    redis.call('EXPIRE', counter, window)
    ttl = 1000 * window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
  local values = {}
  if count_keys > 1 and count <= tonumber(ARGV[a + 2]) then
    values = redis.call('MGET', unpack(KEYS, k + 1, k + count_keys - 1))
  end
  for j = 1, count_keys - 1 do out[#out + 1] = values[j] or false end
  k = k + count_keys
end
return out`,
    true,
  ),
  // KEYS: lock, fence counter (one hash tag) · ARGV: owner, ttl ms → fencing token, or 0 when held.
  // The counter is never expired: a token must never repeat.
  lockAcquire: script(
    2,
    `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`,
  ),
  // KEYS: lock · ARGV: owner → 1 if deleted (compare-and-delete).
  lockRelease: script(
    1,
    `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  ),
  // KEYS: lock · ARGV: owner, ttl ms → 1 if extended (compare-and-extend).
  lockExtend: script(
    1,
    `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  ),
  // KEYS: permit set (member: permit id, score: its expiry in ms) · ARGV: limit, id, ttl ms
  // → 1 if acquired. The set itself lives as long as its longest permit.
  permitAcquire: script(
    1,
    `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1`,
  ),
  // KEYS: permit set · ARGV: id → 1 if the permit was still live (it is removed either way).
  permitRelease: script(
    1,
    `${NOW_MS}
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then return 1 end
return 0`,
  ),
  // KEYS: permit set → number of unexpired permits.
  permitCount: script(
    1,
    `${NOW_MS}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`,
  ),
} as const;

/** runScript runs a script by its SHA, loading it on the first NOSCRIPT (one round trip after). */
export function runScript(
  client: RedisClient,
  { lua, sha, keys, moreKeys }: Script,
  keyNames: string[],
  args: (string | number)[],
): Promise<unknown> {
  if (moreKeys ? keyNames.length < keys : keyNames.length !== keys) return Promise.reject(new TypeError(`script expects ${keys} keys`));
  return client.evalsha(sha, keyNames.length, ...keyNames, ...args).catch((error: unknown) => {
    const noScript = error instanceof ReplyError && (error as Error).message.startsWith("NOSCRIPT");
    if (!noScript) throw error;
    return client.eval(lua, keyNames.length, ...keyNames, ...args);
  });
}
