// The Redis backend: one ioredis client tuned to fail fast — a single node, a Redis Cluster or a
// Sentinel-managed master — and the Lua scripts for locks, permits and a rate-limit hit that reads
// keys (scripts.ts). Rate-limit windows come from rate-limiter-flexible's atomic script, which
// scripts.ts repeats for that hit. On a cluster every script's keys share a slot (hash tags, see
// keys.ts), a multi-key read is split by slot, and the rate-limit hit and its reads go out
// together as one command each, concurrently (one round-trip time).
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, ReplyError } from "ioredis";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { metrics, seriesOf } from "../metrics/metrics.ts";
import { counterSeries, histogramSeries } from "../metrics/series.ts";
import { tracer, tracingEnabled } from "../tracing/tracing.ts";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { CacheUnavailableError } from "./errors.ts";
import { batchHits } from "./hit-batch.ts";
import { runScript, SCRIPTS } from "./scripts.ts";
import { KEY_PREFIXES, type Backend, type RedisClient } from "./types.ts";

/** HostPort is one node's (or sentinel's) address. */
export type HostPort = { host: string; port: number };

/** RedisTarget names the Redis to use: one node by URL, a cluster by seed nodes, or a master by its
 * sentinels (password: the nodes' or master's; sentinelPassword: the sentinels' own). */
export type RedisTarget =
  | { url: string }
  | { cluster: HostPort[]; password?: string }
  | { sentinels: HostPort[]; name: string; password?: string; sentinelPassword?: string };

export interface RedisBackendOptions {
  target: RedisTarget;
  prefix: string;
  /** commandTimeoutMs bounds every command; a frozen or blackholed server fails within it. */
  commandTimeoutMs?: number;
  /** onError sees connection errors; the default warns once per outage. */
  onError?: (error: Error) => void;
}

// Server replies that mean "not available right now" rather than "your command is wrong".
// A MOVED or ASK that reaches us means the cluster's slots moved under a command: retry later.
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MOVED|ASK)\b/;

const backoff = (times: number) => Math.min(50 * 2 ** times, 2000);

/** createRedisClient opens an auto-pipelining ioredis client that never queues: with Redis down,
 * commands reject at once (no offline queue) or after commandTimeoutMs, while it reconnects in the
 * background with capped exponential backoff, so the same client works again after a restart — or,
 * behind sentinels, after a failover (it asks them for the new master), or on a cluster once the
 * stopped master is back or replaced (the slot map is refreshed on every redirection or error). */
export function createRedisClient(target: RedisTarget, commandTimeoutMs = 1000): RedisClient {
  const node = {
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
  };
  // Commands issued in the same tick (revocation reads, cache reads, locks) go out in one write and
  // come back in one read: about 16 µs less CPU per GET /users/me under load (BENCHMARKS.md).
  // Scripts go out at once: the rate-limit hits of a turn are already one script call, sent when
  // the turn ends (hit-batch.ts), which auto-pipelining would hold for one more turn.
  const pipelined = { enableAutoPipelining: true, autoPipeliningIgnoredCommands: ["evalsha", "eval"] };
  if ("cluster" in target) {
    return instrumented(
      new Cluster(target.cluster, {
        enableOfflineQueue: false,
        // No auto-pipelining on a cluster: ioredis groups a batch by the slot of each command's first
        // argument (for EVALSHA the script, not a key), and a batch that meets a MOVED after a
        // master came back hands the redirection to the caller instead of following it (seen in
        // test/fault/redis-cluster.test.ts). Single commands follow redirections.
        enableAutoPipelining: false,
        redisOptions: { ...node, password: target.password },
        clusterRetryStrategy: backoff,
        // CLUSTERDOWN, TRYAGAIN and failovers are retried a few times, 100 ms apart, then fail:
        // no request waits for a cluster that has lost a master.
        maxRedirections: 5,
        retryDelayOnClusterDown: 100,
        retryDelayOnFailover: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: commandTimeoutMs,
      }),
    );
  }
  if ("sentinels" in target) {
    return instrumented(
      new Redis({
        ...node,
        sentinels: target.sentinels,
        name: target.name,
        password: target.password,
        sentinelPassword: target.sentinelPassword,
        sentinelCommandTimeout: commandTimeoutMs,
        sentinelRetryStrategy: backoff,
        // Subscribes to the sentinels' +switch-master, so a failover is followed at once rather
        // than on the next failed command.
        failoverDetector: true,
        enableOfflineQueue: false,
        ...pipelined,
        retryStrategy: backoff,
      }),
    );
  }
  return instrumented(new Redis(target.url, { ...node, enableOfflineQueue: false, ...pipelined, retryStrategy: backoff }));
}

/** describeTarget names a target for banners and errors, never with a password. */
export function describeTarget(target: RedisTarget): string {
  const list = (nodes: HostPort[]) =>
    nodes.map(({ host, port }) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`)).join(",");
  if ("cluster" in target) return `cluster ${list(target.cluster)}`;
  if ("sentinels" in target) return `sentinel master ${target.name} via ${list(target.sentinels)}`;
  const url = new URL(target.url);
  return `${url.hostname}:${url.port || 6379}`;
}

const spanOptions = (command: string) => ({
  kind: SpanKind.CLIENT,
  attributes: { "db.system.name": "redis", "db.operation.name": command.toUpperCase() },
});

// Every command's round trip and failure, by command name (those this code sends: a closed set).
function instrumented<C extends RedisClient>(client: C): C {
  const series = seriesOf((name) => ({
    duration: histogramSeries(metrics.redisDuration, name),
    errors: counterSeries(metrics.redisErrors, name),
  }));
  // Redis and Cluster declare sendCommand apart (Cluster's takes a third argument, the node); both
  // return the command's promise.
  type Send = (command: Parameters<Redis["sendCommand"]>[0], ...rest: unknown[]) => unknown;
  const target = client as unknown as { sendCommand: Send };
  const send = target.sendCommand.bind(client);
  target.sendCommand = (command, ...rest) => {
    const start = performance.now();
    const s = series(command.name);
    // A span only inside a traced request (not for health probes and reconnects).
    const span =
      tracingEnabled() && trace.getActiveSpan() ? tracer.startSpan(`redis ${command.name}`, spanOptions(command.name)) : undefined;
    command.promise.then(
      () => {
        s.duration.observe((performance.now() - start) / 1000);
        span?.end();
      },
      (error: unknown) => {
        s.duration.observe((performance.now() - start) / 1000);
        s.errors.inc();
        span?.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        span?.end();
      },
    );
    return send(command, ...rest);
  };
  return client;
}

/** createRedisBackend runs the store's primitives on Redis. */
export function createRedisBackend(options: RedisBackendOptions): Backend {
  const client = createRedisClient(options.target, options.commandTimeoutMs);
  const cluster = client instanceof Cluster;
  const target = describeTarget(options.target);
  let everReady = false;
  let warned = false;
  client.on("ready", () => {
    everReady = true;
    warned = false;
  });
  client.on(
    "error",
    options.onError ??
      ((error: Error) => {
        if (warned) return;
        warned = true;
        console.warn(`[store] redis ${describe()} unavailable (${error.message}); reconnecting`);
      }),
  );

  const describe = () => target;
  const connectTimeout = cluster ? 2000 + (client.options.slotsRefreshTimeout ?? 1000) : (client as Redis).options.connectTimeout;

  // Only the first connection is waited for (by all callers together), so a store used right
  // after createStore works; after that, "not ready" means an outage and fails at once.
  let connecting: Promise<void> | undefined;
  function whenReady(): Promise<void> | undefined {
    if (client.status === "ready") return undefined;
    if (everReady || !["wait", "connecting", "connect"].includes(client.status)) {
      return Promise.reject(new CacheUnavailableError(`redis ${describe()} is ${client.status}`));
    }
    connecting ??= new Promise<void>((resolve, reject) => {
      const fail = () => done(new CacheUnavailableError(`redis ${describe()} did not connect`));
      const timer = setTimeout(fail, connectTimeout);
      const done = (error?: Error) => {
        clearTimeout(timer);
        client.off("ready", done).off("close", fail);
        connecting = undefined;
        if (error) reject(error);
        else resolve();
      };
      client.once("ready", done).once("close", fail);
    });
    return connecting;
  }

  function unavailable(error: unknown): never {
    if (!(error instanceof Error)) throw error;
    if (error instanceof ReplyError && !TRANSIENT_REPLY.test(error.message)) throw error;
    throw new CacheUnavailableError(`redis ${describe()}: ${error.message}`, { cause: error });
  }

  // A promise chain rather than an async function: one command per request runs through here, and
  // the connected case then costs no extra async frame.
  function guard<T>(fn: () => Promise<T>): Promise<T> {
    const waiting = whenReady();
    if (waiting !== undefined) return waiting.then(() => fn().catch(unavailable));
    try {
      return fn().catch(unavailable);
    } catch (error) {
      return Promise.reject(error).catch(unavailable);
    }
  }

  const script = (name: keyof typeof SCRIPTS, keys: string[], args: (string | number)[]) =>
    guard(() => runScript(client, SCRIPTS[name], keys, args));
  // MGET on a cluster takes only keys of one slot: one MGET per slot, sent together.
  const getValues = (keys: string[]): Promise<(string | null)[]> => {
    if (!cluster) return guard(() => client.mget(keys));
    const bySlot = Map.groupBy(keys.keys(), (i) => calculateSlot(keys[i]!));
    if (bySlot.size === 1) return guard(() => client.mget(keys));
    return guard(async () => {
      const values: (string | null)[] = new Array(keys.length);
      await Promise.all(
        [...bySlot.values()].map(async (indexes) => {
          const read = await client.mget(indexes.map((i) => keys[i]!));
          indexes.forEach((index, j) => {
            values[index] = read[j] ?? null;
          });
        }),
      );
      return values;
    });
  };
  // A node's rate-limit hits of one event-loop turn go as one script call (hit-batch.ts).
  const hits = batchHits((keys, args) => script("rateLimitHits", keys, args));
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `${options.prefix}${KEY_PREFIXES.rateLimit.slice(0, -1)}`,
    points: Number.MAX_SAFE_INTEGER,
    duration: 60,
  });

  return {
    kind: "redis",
    redis: client,
    describe: () => `redis ${describe()}`,
    guard,
    async ping() {
      if (!cluster) return void (await guard(() => client.ping()));
      // PING answers on a node of a cluster that has lost a master; the cluster's own state says
      // whether every slot is served.
      const info = String(await guard(() => client.cluster("INFO")));
      if (!info.includes("cluster_state:ok")) throw new CacheUnavailableError(`redis ${describe()}: cluster_state is not ok`);
    },
    async close() {
      if (client.status === "ready") await client.quit().catch(() => {});
      // Also after QUIT: only disconnect() ends the sentinel connector's failover subscriptions,
      // which would keep the process alive.
      client.disconnect();
    },
    limiter,
    async hitAndGet(id, windowSeconds, max, keys) {
      if (!cluster) return hits(limiter.getKey(id), keys, windowSeconds, max);
      // On a cluster the counter (a client address) and the keys (a user's) live in different
      // slots: the hit and the reads go out together and the reads are dropped when the hit is
      // denied. A user's keys share a hash tag, so they are one consistent MGET.
      const [[count, msBeforeNext], read] = await Promise.all([
        script("rateLimitHits", [limiter.getKey(id)], [1, windowSeconds, max]) as Promise<[number, number]>,
        keys.length > 0 ? getValues(keys) : [],
      ]);
      return { count, msBeforeNext, values: count <= max ? read : keys.map(() => null) };
    },
    getValue: (key) => guard(() => client.get(key)),
    getValues,
    async setValue(key, value, ttlMs) {
      await guard(() => client.set(key, value, "PX", ttlMs));
    },
    deleteValue: async (key) => (await guard(() => client.del(key))) > 0,
    takeValue: (key) => guard(() => client.getdel(key)),
    lockAcquire: async (key, owner, ttlMs) => Number(await script("lockAcquire", [key, `${key}:fence`], [owner, ttlMs])),
    lockRelease: async (key, owner) => Number(await script("lockRelease", [key], [owner])) === 1,
    lockExtend: async (key, owner, ttlMs) => Number(await script("lockExtend", [key], [owner, ttlMs])) === 1,
    lockHeld: async (key) => (await guard(() => client.exists(key))) === 1,
    permitAcquire: async (key, id, limit, ttlMs) => Number(await script("permitAcquire", [key], [limit, id, ttlMs])) === 1,
    permitRelease: async (key, id) => Number(await script("permitRelease", [key], [id])) === 1,
    permitCount: async (key) => Number(await script("permitCount", [key], [])),
  };
}
