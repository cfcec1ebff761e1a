import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { THREADS, threadHasher } from "./argon2-threads.ts";

const MAIN_NICE = getPriority(); // the event loop's thread, before any hashing thread starts
const CHEAP = { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 } as const;

/** threadNices reads each thread's nice value (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
    nices.set(Number(tid), Number(fields[16]));
  }
  return nices;
}

describe("Argon2id threads", () => {
  test("hash and verify round-trip off the event loop", async () => {
    const hash = await threadHasher.hash("correct horse battery staple", CHEAP);
    expect(hash).toStartWith("$argon2id$v=19$m=1024,t=1,p=1$");
    expect(await threadHasher.verify("correct horse battery staple", hash)).toBe(true);
    expect(await threadHasher.verify("correct horse battery stapler", hash)).toBe(false);
  });

  test.skipIf(process.platform !== "linux")(
    "hashing threads run at nice 19; the event loop's thread stays at its own priority",
    async () => {
      await Promise.all(Array.from({ length: THREADS }, () => threadHasher.hash("x", CHEAP)));
      const nices = threadNices();
      expect(nices.get(process.pid)).toBe(MAIN_NICE);
      expect([...nices.values()].filter((nice) => nice === 19).length).toBeGreaterThanOrEqual(THREADS);
    },
  );

  test("more jobs than threads all complete, each with its own answer", async () => {
    const passwords = Array.from({ length: THREADS * 3 + 1 }, (_, i) => `password ${i}`);
    const hashes = await Promise.all(passwords.map((password) => threadHasher.hash(password, CHEAP)));
    expect(new Set(hashes).size).toBe(passwords.length);
    const checks = await Promise.all(passwords.map((password, i) => threadHasher.verify(password, hashes[(i + 1) % hashes.length]!)));
    expect(checks.every((ok) => ok === false)).toBe(true);
    expect(await Promise.all(passwords.map((password, i) => threadHasher.verify(password, hashes[i]!)))).toEqual(passwords.map(() => true));
  });

  test("an undecodable hash rejects that job only; the threads go on working", async () => {
    await expect(threadHasher.verify("x", "$argon2id$v=19$m=1024,t=1,p=1$not-base64$%%%")).rejects.toThrow();
    const hash = await threadHasher.hash("still fine", CHEAP);
    expect(await threadHasher.verify("still fine", hash)).toBe(true);
  });
});
