// A durable job queue with retries and exponential backoff. On Redis it is BullMQ: a job is stored
// before add() answers, a failed attempt is retried later (a delayed job survives any restart),
// and a job whose worker died mid-attempt is taken up again once its lock expires (stalled-job
// recovery), so nothing is lost when a process stops. Without Redis (development) an in-process
// queue gives the same retries in one process, and loses what is pending when it stops.
// On a Redis Cluster BullMQ's scripts touch many keys of a queue at once: the prefix carries a hash
// tag (`<prefix>{bull}`), so every queue key lives in one slot; one node and Sentinel use the same names.
import { Queue, Worker } from "bullmq";
import { Cluster, type RedisOptions } from "ioredis";
import pLimit from "p-limit";
import type { Logger } from "../log.ts";
import { CacheUnavailableError } from "../redis/errors.ts";
import type { RedisClient, Store } from "../redis/types.ts";

export type JobQueue<T> = {
  /** add stores a job; it resolves once the job is safe (Redis: written), and rejects with
   * CacheUnavailableError when the backend can't take it. */
  add(job: T): Promise<void>;
  /** process starts running handler on the jobs in this process; a throw is a failed attempt, retried later. */
  process(handler: (job: T) => Promise<void>): void;
  describe(): string;
  /** close stops taking jobs and waits up to closeTimeoutMs for running ones (Redis: the rest resume elsewhere). */
  close(): Promise<void>;
};

export type QueueOptions = {
  name: string;
  log: Logger;
  /** attempts is how many times a job is tried in all (default 30: about 6 hours with the default backoff). */
  attempts?: number;
  /** backoffMs is the wait before the first retry, doubled for each next one up to maxBackoffMs (defaults 5 s, 15 min). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** concurrency is how many jobs one process runs at once (default 4). */
  concurrency?: number;
  /** lockMs is how long a job stays claimed by a worker that stopped answering before another takes it (default 30 s). */
  lockMs?: number;
  /** closeTimeoutMs bounds how long close() waits for running jobs (default 5 s). */
  closeTimeoutMs?: number;
};

const ADD_TIMEOUT_MS = 2000;
const DEFAULTS = { attempts: 30, backoffMs: 5_000, maxBackoffMs: 15 * 60_000, concurrency: 4, lockMs: 30_000, closeTimeoutMs: 5_000 };

/** retryDelay is the wait after the nth failed attempt: exponential, capped, with ±20 % jitter. */
export function retryDelay(failedAttempts: number, backoffMs: number, maxBackoffMs: number): number {
  const base = Math.min(backoffMs * 2 ** Math.max(0, failedAttempts - 1), maxBackoffMs);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** createQueue opens the named queue on the store's backend (BullMQ under `<prefix>{bull}:<name>:` on Redis). */
export function createQueue<T>(store: Store, options: QueueOptions): JobQueue<T> {
  const settings = { ...DEFAULTS, ...options };
  return store.redis ? bullQueue<T>(store, settings) : memoryQueue<T>(settings);
}

type Settings = typeof DEFAULTS & QueueOptions;

/** queuePrefix is BullMQ's key prefix under the store's: `{bull}` is a hash tag, so on a Redis
 * Cluster all of a queue's keys (which its scripts use together) share one slot. */
export const queuePrefix = (storePrefix: string) => `${storePrefix}{bull}`;

/** duplicate opens another connection to the same Redis — one node, a master behind sentinels or a
 * cluster — with client options (offline queue, pipelining) and per-node options (retries, timeout). */
function duplicate(
  redis: RedisClient,
  client: Pick<RedisOptions, "enableOfflineQueue" | "enableAutoPipelining">,
  node: Pick<RedisOptions, "maxRetriesPerRequest" | "commandTimeout">,
): RedisClient {
  if (redis instanceof Cluster) return redis.duplicate([], { ...client, redisOptions: { ...redis.options.redisOptions, ...node } });
  return redis.duplicate({ ...client, ...node });
}

function bullQueue<T>(store: Store, settings: Settings): JobQueue<T> {
  const redis = store.redis;
  if (!redis) throw new Error("bullQueue needs Redis");
  const { name, log } = settings;
  const prefix = queuePrefix(store.prefix);
  // The producer fails fast like the store (no offline queue, a command timeout): a request never
  // waits on a Redis outage, it answers 503. The worker's connection blocks and retries forever.
  const producer = duplicate(
    redis,
    { enableOfflineQueue: false, enableAutoPipelining: false },
    { maxRetriesPerRequest: 1, commandTimeout: 2000 },
  );
  producer.on("error", () => {}); // the store's own client reports outages
  const queue = new Queue(name, {
    connection: producer,
    prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: "custom" },
      removeOnComplete: { count: 1000 },
      // Kept for an operator to inspect and retry (Queue.retryJobs); never silently dropped.
      removeOnFail: { count: 10_000 },
    },
  });
  queue.on("error", () => {});
  let everReady = false;
  producer.on("ready", () => {
    everReady = true;
  });
  const unavailable = (why: string, cause?: unknown) => new CacheUnavailableError(`queue ${name}: ${why}`, { cause });
  let worker: Worker | undefined;
  let workerConnection: RedisClient | undefined;
  return {
    async add(job) {
      // BullMQ waits for a connection without bound: after the first one, not connected means an
      // outage (fail at once); the first connect, and any command, get ADD_TIMEOUT_MS.
      if (everReady && producer.status !== "ready") throw unavailable(`redis is ${producer.status}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(unavailable(`redis did not answer in ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS);
      });
      try {
        await Promise.race([queue.add(name, job), late]);
      } catch (error) {
        if (error instanceof CacheUnavailableError) throw error;
        throw unavailable(error instanceof Error ? error.message : String(error), error);
      } finally {
        clearTimeout(timer);
      }
    },
    process(handler) {
      const connection = duplicate(
        redis,
        { enableOfflineQueue: true, enableAutoPipelining: false },
        { maxRetriesPerRequest: null, commandTimeout: undefined },
      );
      workerConnection = connection;
      connection.on("error", () => {});
      worker = new Worker(name, async (job) => handler(job.data as T), {
        connection,
        prefix,
        concurrency: settings.concurrency,
        lockDuration: settings.lockMs,
        stalledInterval: Math.max(1000, Math.floor(settings.lockMs / 2)),
        // A crash mid-attempt is not the job's fault: take it up again however often it happens.
        maxStalledCount: 1000,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, settings.backoffMs, settings.maxBackoffMs) },
      });
      worker.on("failed", (job, error) => {
        const attempt = job?.attemptsMade ?? 0;
        const fields = { queue: name, job_id: job?.id, attempt, attempts: settings.attempts, error };
        if (attempt >= settings.attempts) log.error("job failed for good: kept in the failed set", fields);
        else log.warn("job attempt failed; retrying later", fields);
      });
      let warned = false;
      worker.on("error", (error) => {
        if (warned) return;
        warned = true;
        log.warn("queue worker: redis unavailable; retrying", { queue: name, error });
      });
      worker.on("ready", () => {
        warned = false;
      });
    },
    describe: () => `BullMQ on ${store.describe()} (${prefix}:${name})`,
    async close() {
      if (worker) {
        const closing = worker.close();
        const late = await Promise.race([closing.then(() => false), Bun.sleep(settings.closeTimeoutMs).then(() => true)]);
        // A job still running resumes in another process once its lock expires.
        if (late) await worker.close(true);
      }
      await queue.close();
      // Connections handed to BullMQ stay ours to close.
      workerConnection?.disconnect();
      producer.disconnect();
    },
  };
}

function memoryQueue<T>(settings: Settings): JobQueue<T> {
  const { name, log } = settings;
  const limit = pLimit(settings.concurrency);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const backlog: T[] = [];
  let handler: ((job: T) => Promise<void>) | undefined;
  let closed = false;

  const schedule = (job: T, attempt: number, delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void limit(() => run(job, attempt));
    }, delayMs);
    timers.add(timer);
  };
  const run = async (job: T, attempt: number) => {
    if (closed || !handler) return;
    try {
      await handler(job);
    } catch (error) {
      const fields = { queue: name, attempt, attempts: settings.attempts, error };
      if (attempt >= settings.attempts) return log.error("job failed for good", fields);
      log.warn("job attempt failed; retrying later", fields);
      schedule(job, attempt + 1, retryDelay(attempt, settings.backoffMs, settings.maxBackoffMs));
    }
  };

  return {
    async add(job) {
      // A copy, as Redis would keep it: the caller's object may change after add().
      const stored = structuredClone(job);
      if (handler) schedule(stored, 1, 0);
      else backlog.push(stored);
    },
    process(next) {
      handler = next;
      for (const job of backlog.splice(0)) schedule(job, 1, 0);
    },
    describe: () => `in-process (development only: pending jobs are lost when the process stops; set REDIS_URL)`,
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
