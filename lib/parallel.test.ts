import { expect, test } from "bun:test";
import { batch, mapLimited } from "./parallel.ts";

test("mapLimited never runs more than limit calls at once and keeps input order", async () => {
  let running = 0;
  let most = 0;
  const results = await mapLimited([5, 1, 4, 2, 3, 0, 6, 2], 3, async (ms, index) => {
    running++;
    most = Math.max(most, running);
    await Bun.sleep(ms * 3);
    running--;
    return `${index}:${ms}`;
  });
  expect(results).toEqual(["0:5", "1:1", "2:4", "3:2", "4:3", "5:0", "6:6", "7:2"]);
  expect(most).toBe(3);
});

test("mapLimited rejects with the first failure", async () => {
  const run = mapLimited([1, 2, 3], 2, async (n) => {
    if (n === 2) throw new Error("two failed");
    return n;
  });
  await expect(run).rejects.toThrow("two failed");
});

test("mapLimited refuses a limit below one", () => {
  expect(() => mapLimited([1], 0, async (n) => n)).toThrow(RangeError);
});

test("batch hands out chunks of size, one at a time by default, results concatenated in order", async () => {
  const chunks: number[][] = [];
  let running = 0;
  let most = 0;
  const ids = Array.from({ length: 7 }, (_, i) => i);
  const results = await batch(ids, 3, async (chunk) => {
    running++;
    most = Math.max(most, running);
    chunks.push(chunk);
    await Bun.sleep(2);
    running--;
    return chunk.map((id) => id * 10);
  });
  expect(chunks).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  expect(results).toEqual([0, 10, 20, 30, 40, 50, 60]);
  expect(most).toBe(1);
});

test("batch runs up to concurrency chunks at once and handles an empty list", async () => {
  let running = 0;
  let most = 0;
  const results = await batch(
    Array.from({ length: 10 }, (_, i) => i),
    2,
    async (chunk) => {
      running++;
      most = Math.max(most, running);
      await Bun.sleep(5);
      running--;
      return chunk;
    },
    2,
  );
  expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(most).toBe(2);
  expect(await batch([], 5, async (chunk: number[]) => chunk)).toEqual([]);
});
