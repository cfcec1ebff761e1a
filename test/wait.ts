/** within retries fn every 50 ms until it resolves, failing after ms with what and the last error. */
export async function within<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() > deadline)
        throw new Error(`${what}: not within ${ms} ms (${error instanceof Error ? error.message : error})`, { cause: error });
      await Bun.sleep(50);
    }
  }
}
