import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  jsonInit,
  PASSWORD,
  startTestStack,
  uniqueEmail,
  type StackOverrides,
  type TestGateway,
  type TestStack,
} from "../../test/stack.ts";
import { parseTrustedProxies } from "./client-ip.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const MAX = 3;
const limited = (more: StackOverrides = {}) =>
  stack.gateway({ limits: { auth: { name: "auth", max: MAX, windowSeconds: 60 }, users: stack.deps.limits.users }, ...more });
const login = (gateway: TestGateway, headers: Record<string, string>) =>
  gateway.fetch("/auth/login", jsonInit("POST", { email: uniqueEmail(), password: PASSWORD }, headers));
/** spent is how many of its auth requests the gateway counted against ip. */
const spent = async (gateway: TestGateway, ip: string) => MAX - (await gateway.deps.store.rateLimit.remaining(`auth:${ip}`, MAX));

describe("clientIp by default (no trusted proxies)", () => {
  test("counts the socket address: X-Forwarded-For rotation doesn't reset the limit", async () => {
    const gateway = await limited();
    const statuses = [];
    for (let i = 0; i < MAX + 2; i++)
      statuses.push((await login(gateway, { "x-forwarded-for": `198.51.100.${i}`, "x-real-ip": `203.0.113.${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(await spent(gateway, "127.0.0.1")).toBe(MAX);
    expect(await spent(gateway, "198.51.100.0")).toBe(0);
    expect(await spent(gateway, "203.0.113.0")).toBe(0);
  });
});

describe("clientIp with TRUSTED_PROXIES=127.0.0.1/32", () => {
  test("limits the rightmost untrusted X-Forwarded-For address, whatever the client prepends", async () => {
    const gateway = await limited({ trustedProxies: parseTrustedProxies("127.0.0.1/32") });
    const statuses = [];
    for (let i = 0; i < MAX + 1; i++) statuses.push((await login(gateway, { "x-forwarded-for": `10.0.0.${i}, 203.0.113.7` })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(await spent(gateway, "203.0.113.7")).toBe(MAX);
    expect(await spent(gateway, "127.0.0.1")).toBe(0);
    // Another client behind the same proxy has its own budget.
    expect((await login(gateway, { "x-forwarded-for": "203.0.113.8" })).status).toBe(401);
    expect(await spent(gateway, "203.0.113.8")).toBe(1);
  });

  test("skips trusted hops from the right", async () => {
    const gateway = await limited({ trustedProxies: parseTrustedProxies("127.0.0.1/32, 10.0.0.0/8") });
    await login(gateway, { "x-forwarded-for": "192.0.2.1, 198.51.100.9, 10.1.2.3" });
    expect(await spent(gateway, "198.51.100.9")).toBe(1);
  });

  test("uses X-Real-IP when X-Forwarded-For is absent, and the socket when neither is usable", async () => {
    const gateway = await limited({ trustedProxies: ["127.0.0.1/32"] });
    await login(gateway, { "x-real-ip": "198.51.100.20" });
    await login(gateway, { "x-real-ip": "not an address" });
    expect(await spent(gateway, "198.51.100.20")).toBe(1);
    expect(await spent(gateway, "127.0.0.1")).toBe(1);
  });
});

describe("parseTrustedProxies", () => {
  test("accepts addresses and CIDR ranges and refuses anything else", () => {
    expect(parseTrustedProxies(" 10.0.0.0/8, 127.0.0.1 ,::1 ")).toEqual(["10.0.0.0/8", "127.0.0.1", "::1"]);
    expect(parseTrustedProxies("")).toEqual([]);
    expect(() => parseTrustedProxies("10.0.0.0/33")).toThrow();
    expect(() => parseTrustedProxies("load-balancer.internal")).toThrow();
  });
});
