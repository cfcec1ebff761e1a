// Bounded parallelism, the reference's join_all_limited and batch::process, on p-limit.
import pLimit from "p-limit";

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/** mapLimited maps items through fn with at most `limit` calls in flight and returns the results
 * in input order; it rejects with the first failure (calls already started still finish). */
export function mapLimited<T, R>(items: Iterable<T>, limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  positiveInteger("limit", limit);
  return pLimit(limit).map(items, fn);
}

/** batch hands items to fn in chunks of `size` (for bulk calls such as `WHERE id IN (…)`),
 * `concurrency` chunks at a time (default one after another), and concatenates the results in
 * order. For one call per item with bounded concurrency, use mapLimited. */
export async function batch<T, R>(
  items: readonly T[],
  size: number,
  fn: (chunk: T[], index: number) => Promise<R[]>,
  concurrency = 1,
): Promise<R[]> {
  positiveInteger("size", size);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return (await mapLimited(chunks, concurrency, fn)).flat();
}
