// The contract suite's harness: every *.test.ts here runs its tests on the in-process store and,
// when the preload found a Redis (TEST_REDIS_URL), on Redis — each run under a random key prefix
// that is deleted afterwards, so parallel runs and other suites never collide.
import { afterAll, beforeAll, describe } from "bun:test";
import { DEFAULT_TEST_REDIS_URL, testRedisUrl } from "./backends.ts";
import { deletePrefix } from "../lib/redis/delete-prefix.ts";
import { createStore, type Store } from "../lib/redis/index.ts";

/** randomPrefix is a fresh key namespace for one test run. */
export function randomPrefix(): string {
  return `test:${crypto.randomUUID().slice(0, 8)}:`;
}

/** describeStores declares suite once per backend; suite reads the store through the getter
 * (it exists once the tests run) and gets the run's key prefix. */
export function describeStores(title: string, suite: (store: () => Store, prefix: string) => void): void {
  const url = testRedisUrl();
  if (!url) {
    console.log(`[${title}] Redis run skipped: no Redis answered at TEST_REDIS_URL or ${DEFAULT_TEST_REDIS_URL}`);
  }
  for (const [kind, storeUrl] of [
    ["memory", undefined],
    ["redis", url],
  ] as const) {
    describe.skipIf(kind === "redis" && !storeUrl)(`${title} on ${kind}`, () => {
      const prefix = randomPrefix();
      let store: Store | undefined;
      beforeAll(() => {
        store = createStore({ url: storeUrl, prefix });
      });
      afterAll(async () => {
        if (!store) return;
        await deletePrefix(store, prefix);
        await store.close();
      });
      suite(() => {
        if (!store) throw new Error("store not created yet");
        return store;
      }, prefix);
    });
  }
}
