import { describe, expect, test } from "bun:test";
import { ResourceExhaustedError } from "../../lib/errors.ts";
import { createPasswords, type Argon2Params, type Hasher } from "./passwords.ts";

/** spyHasher is Bun.password with a record of every verification. */
function spyHasher() {
  const verified: string[] = [];
  const hasher: Hasher = {
    hash: (password, params) => Bun.password.hash(password, params),
    verify: (password, hash) => {
      verified.push(hash);
      return Bun.password.verify(password, hash);
    },
  };
  return { hasher, verified };
}

/** gatedHasher holds every hash until release() is called, to saturate the bound on purpose. */
function gatedHasher() {
  let open = Promise.withResolvers<void>();
  let running = 0;
  let calls = 0;
  const hasher: Hasher = {
    async hash(password: string, params: Argon2Params) {
      if (calls++ === 0) return Bun.password.hash(password, params); // the dummy hash, at creation
      running++;
      await open.promise;
      running--;
      return `hashed:${password}`;
    },
    verify: async () => false,
  };
  return {
    hasher,
    running: () => running,
    release() {
      open.resolve();
      open = Promise.withResolvers<void>();
    },
  };
}

describe("hash and verify", () => {
  test("hash makes an Argon2id PHC string at m=19456, t=2 that verifies only the same password", async () => {
    const passwords = await createPasswords();
    const hash = await passwords.hash("correct horse battery staple");
    expect(hash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    expect(passwords.dummyHash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    expect(await passwords.verify("correct horse battery staple", hash)).toBe(true);
    expect(await passwords.verify("correct horse battery stapl", hash)).toBe(false);
    expect(await passwords.verify(" correct horse battery staple", hash)).toBe(false);
  });

  test("passwords are kept verbatim: unicode and surrounding spaces matter", async () => {
    const passwords = await createPasswords();
    const hash = await passwords.hash("  pässwörd 🔑  ");
    expect(await passwords.verify("  pässwörd 🔑  ", hash)).toBe(true);
    expect(await passwords.verify("pässwörd 🔑", hash)).toBe(false);
  });

  test.each([
    ["a missing hash", null],
    ["an empty hash", ""],
    ["a non-PHC string", "not-a-hash"],
    ["a bcrypt-looking string", "$2b$10$abcdefghijklmnopqrstuv"],
    ["an argon2 string Bun can't decode", "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAA"],
  ])("verify against %s still runs one verification with the dummy hash and answers false", async (_, stored) => {
    const { hasher, verified } = spyHasher();
    const passwords = await createPasswords({ hasher });
    expect(await passwords.verify("whatever-password", stored)).toBe(false);
    expect(verified.at(-1)).toBe(passwords.dummyHash);
    // A decodable-looking hash may be tried first; the dummy verification always happens.
    expect(verified.filter((h) => h === passwords.dummyHash)).toHaveLength(1);
  });

  test("the dummy hash never verifies, not even its own random input", async () => {
    const passwords = await createPasswords();
    expect(await passwords.verify("", passwords.dummyHash)).toBe(false);
  });
});

describe("bounded concurrency", () => {
  test("a hash waits for a free slot, then fails with ResourceExhausted and a retry-after", async () => {
    const gate = gatedHasher();
    const passwords = await createPasswords({ hasher: gate.hasher, concurrency: 1, maxWaitMs: 50, retryAfterSeconds: 2 });
    const first = passwords.hash("first-password");
    const started = performance.now();
    const error = await passwords.hash("second-password").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as ResourceExhaustedError).retryAfterSeconds).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    gate.release();
    expect(await first).toBe("hashed:first-password");
    // The refused one never ran, and the slot is free again.
    const third = passwords.hash("third-password");
    await Bun.sleep(5);
    expect(gate.running()).toBe(1);
    gate.release();
    expect(await third).toBe("hashed:third-password");
  });

  test("never runs more than `concurrency` at once; waiting callers are served in turn", async () => {
    const gate = gatedHasher();
    const passwords = await createPasswords({ hasher: gate.hasher, concurrency: 2, maxWaitMs: 5000 });
    const results = Array.from({ length: 5 }, (_, i) => passwords.hash(`password-${i}`));
    for (let round = 0; round < 3; round++) {
      await Bun.sleep(5);
      expect(gate.running()).toBeLessThanOrEqual(2);
      gate.release();
    }
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4].map((i) => `hashed:password-${i}`));
  });

  test("beyond maxQueue waiting callers, the answer is immediate", async () => {
    const gate = gatedHasher();
    const passwords = await createPasswords({ hasher: gate.hasher, concurrency: 1, maxQueue: 1, maxWaitMs: 5000 });
    const running = passwords.hash("running-password");
    const queued = passwords.hash("queued-password");
    const started = performance.now();
    await expect(passwords.hash("refused-password")).rejects.toBeInstanceOf(ResourceExhaustedError);
    expect(performance.now() - started).toBeLessThan(20);
    gate.release();
    await running;
    await Bun.sleep(1);
    gate.release();
    await queued;
  });

  test("verify is bounded the same way", async () => {
    const gate = gatedHasher();
    const passwords = await createPasswords({ hasher: gate.hasher, concurrency: 1, maxWaitMs: 30 });
    const holding = passwords.hash("holding-password");
    await expect(passwords.verify("pw", null)).rejects.toBeInstanceOf(ResourceExhaustedError);
    gate.release();
    await holding;
  });
});
