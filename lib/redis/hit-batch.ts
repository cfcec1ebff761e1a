// Rate-limit hits batched per turn of the event loop: every hit made in one turn (concurrent
// requests' rate limits, each with the keys it reads) goes to Redis as one script call, sent when
// the turn ends, which counts and reads them one after another, each as atomically as alone. Under
// load a turn carries ≈ 20 requests; one command for them all instead of one each spares ioredis'
// per-command work (its command object, promises, reply callbacks, and our wrappers around them):
// ≈ 10 % of GET /users/me's CPU, and Redis runs a twentieth of the commands (BENCHMARKS.md). Only
// where every key lives on one node: on a cluster a script's keys must share a slot, and hits go
// one by one (redis.ts).

/** HitResult is one hit: its count in the window, the ms before the window resets, and the values
 * of the keys it read (null when absent, and all null when the hit was denied). */
export type HitResult = { count: number; msBeforeNext: number; values: (string | null)[] };

type Pending = {
  keys: string[];
  args: number[];
  resolve: (result: HitResult) => void;
  reject: (error: unknown) => void;
};

/** A script call's limits: KEYS and ARGV stay far below Lua's stack limit for unpack. */
const MAX_HITS = 64;

/**
 * batchHits returns hit(), which queues a hit and sends the turn's queue through run — one call of
 * SCRIPTS.rateLimitHits (KEYS: each hit's counter then its reads; ARGV: each hit's key count, window
 * seconds and max) — when the turn ends. A failed call fails every hit in it.
 */
export function batchHits(run: (keys: string[], args: number[]) => Promise<unknown>) {
  let queue: Pending[] = [];

  function flush() {
    const batch = queue;
    queue = [];
    for (let from = 0; from < batch.length; from += MAX_HITS) send(batch.slice(from, from + MAX_HITS));
  }

  function send(batch: Pending[]) {
    const keys: string[] = [];
    const args: number[] = [];
    for (const hit of batch) {
      for (const key of hit.keys) keys.push(key);
      for (const arg of hit.args) args.push(arg);
    }
    run(keys, args).then(
      (reply) => settle(batch, reply),
      (error: unknown) => {
        for (const hit of batch) hit.reject(error);
      },
    );
  }

  return function hit(counter: string, reads: string[], windowSeconds: number, max: number): Promise<HitResult> {
    const { promise, resolve, reject } = Promise.withResolvers<HitResult>();
    queue.push({ keys: [counter, ...reads], args: [reads.length + 1, windowSeconds, max], resolve, reject });
    if (queue.length === 1) setImmediate(flush);
    return promise;
  };
}

/** settle hands each hit its part of the reply: count, ms before reset, then one value per read. */
function settle(batch: Pending[], reply: unknown) {
  const expected = batch.reduce((sum, hit) => sum + hit.keys.length + 1, 0);
  if (!Array.isArray(reply) || reply.length !== expected) {
    const error = new Error(`rate-limit script: expected ${expected} values, got ${Array.isArray(reply) ? reply.length : typeof reply}`);
    for (const hit of batch) hit.reject(error);
    return;
  }
  let at = 0;
  for (const hit of batch) {
    const reads = hit.keys.length - 1;
    const values = reply.slice(at + 2, at + 2 + reads) as (string | null)[];
    hit.resolve({ count: Number(reply[at]), msBeforeNext: Number(reply[at + 1]), values });
    at += 2 + reads;
  }
}
