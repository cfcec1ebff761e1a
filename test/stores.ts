// The contract suite's harness: every *.test.ts here runs its tests on the in-process store, on
// Redis when the preload found one (TEST_REDIS_URL), and on a real 3-master Redis Cluster started
// from Debian's redis-server for the file (test/redis-cluster.ts) — each run under a random key
// prefix that is deleted afterwards, so parallel runs and other suites never collide.
import { afterAll, beforeAll, describe } from "bun:test";
import { DEFAULT_TEST_REDIS_URL, testRedisUrl } from "./backends.ts";
import { clusterSkipReason, type RedisCluster, startRedisCluster } from "./redis-cluster.ts";
import { deletePrefix } from "../lib/redis/delete-prefix.ts";
import { scanKeys as scanRedis } from "../lib/redis/scan.ts";
import { createStore, type Store, type StoreOptions } from "../lib/redis/index.ts";

/** randomPrefix is a fresh key namespace for one test run. */
export function randomPrefix(): string {
  return `test:${crypto.randomUUID().slice(0, 8)}:`;
}

// One cluster per test file (bun runs a file's suites together), started by its first suite that
// needs it and stopped, by pid, after its last one.
let cluster: Promise<RedisCluster> | undefined;
let clusterUsers = 0;

/** useTestCluster starts (or shares) this file's throwaway Redis Cluster; release it with releaseTestCluster. */
export function useTestCluster(): Promise<RedisCluster> {
  clusterUsers++;
  cluster ??= startRedisCluster(3);
  return cluster;
}

/** releaseTestCluster stops the file's cluster once its last user is done. */
export async function releaseTestCluster(): Promise<void> {
  if (--clusterUsers > 0 || !cluster) return;
  const running = cluster;
  cluster = undefined;
  await (await running.catch(() => undefined))?.close();
}

/** describeStores declares suite once per backend; suite reads the store through the getter
 * (it exists once the tests run) and gets the run's key prefix and the backend's kind. */
export function describeStores(title: string, suite: (store: () => Store, prefix: string, kind: StoreKind) => void): void {
  const url = testRedisUrl();
  if (!url) {
    console.log(`[${title}] Redis run skipped: no Redis answered at TEST_REDIS_URL or ${DEFAULT_TEST_REDIS_URL}`);
  }
  if (clusterSkipReason) console.log(`[${title}] Redis Cluster run skipped: ${clusterSkipReason}`);
  const skipped = { memory: false, redis: !url, cluster: !!clusterSkipReason };
  for (const kind of ["memory", "redis", "cluster"] as const) {
    describe.skipIf(skipped[kind])(`${title} on ${kind}`, () => {
      const prefix = randomPrefix();
      let store: Store | undefined;
      beforeAll(async () => {
        const options: StoreOptions =
          kind === "memory" ? {} : kind === "redis" ? { url } : { cluster: hostPorts((await useTestCluster()).nodes) };
        store = createStore({ ...options, prefix });
        await store.ping();
      }, 30_000);
      afterAll(async () => {
        if (store) {
          await deletePrefix(store, prefix);
          await store.close();
        }
        if (kind === "cluster") await releaseTestCluster();
      });
      suite(
        () => {
          if (!store) throw new Error("store not created yet");
          return store;
        },
        prefix,
        kind,
      );
    });
  }
}

/** scanKeys lists the keys matching pattern on every master (KEYS on a cluster asks one node only). */
export async function scanKeys(store: Store, pattern: string): Promise<string[]> {
  const found: string[] = [];
  if (store.redis) for await (const keys of scanRedis(store.redis, pattern)) found.push(...keys);
  return found;
}

export type StoreKind = "memory" | "redis" | "cluster";

/** hostPorts turns "host:port" strings into the store's seed list. */
export const hostPorts = (nodes: string[]) =>
  nodes.map((node) => {
    const i = node.lastIndexOf(":");
    return { host: node.slice(0, i), port: Number(node.slice(i + 1)) };
  });
