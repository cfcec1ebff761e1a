import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  bearer,
  expectProblem,
  forgeToken,
  jsonInit,
  PASSWORD,
  startTestStack,
  unreachableStore,
  uniqueEmail,
  type TestStack,
} from "../../test/stack.ts";
import { gatewayEnvSchema, rateLimits } from "../env.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const limits = (auth: number, users: number) => ({
  limits: { auth: { name: "auth", max: auth, windowSeconds: 60 }, users: { name: "users", max: users, windowSeconds: 30 } },
});
const login = (headers: Record<string, string> = {}) => jsonInit("POST", { email: uniqueEmail(), password: PASSWORD }, headers);
const rateHeaders = (res: Response) =>
  Object.fromEntries(
    ["x-ratelimit-limit", "x-ratelimit-remaining", "ratelimit-policy", "ratelimit", "retry-after"].map((name) => [
      name,
      res.headers.get(name),
    ]),
  );

describe("rateLimit", () => {
  test("marks every limited response with the reference's and the IETF headers, counting down", async () => {
    const gateway = await stack.gateway(limits(3, 100));
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await gateway.fetch("/auth/login", login());
      statuses.push(res.status);
      expect(rateHeaders(res)).toEqual({
        "x-ratelimit-limit": "3",
        "x-ratelimit-remaining": String(2 - i),
        "ratelimit-policy": '"auth";q=3;w=60',
        ratelimit: expect.stringMatching(new RegExp(`^"auth";r=${2 - i};t=(60|59)$`)),
        "retry-after": null,
      });
    }
    expect(statuses).toEqual([401, 401, 401]);
  });

  test("answers 429 with Retry-After and a problem body once the limit is spent, and keeps answering it", async () => {
    const gateway = await stack.gateway(limits(2, 100));
    for (let i = 0; i < 2; i++) expect((await gateway.fetch("/auth/login", login())).status).toBe(401);
    for (let i = 0; i < 3; i++) {
      const res = await gateway.fetch("/auth/login", login());
      const problem = await expectProblem(res, 429);
      expect(problem.detail).toContain("at most 2 per 60 s");
      expect(Number(res.headers.get("retry-after"))).toBeWithin(1, 61);
      expect(rateHeaders(res)).toMatchObject({
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "0",
        "ratelimit-policy": '"auth";q=2;w=60',
      });
    }
  });

  test("counts /auth/* and /users/* separately, each with its own policy", async () => {
    const gateway = await stack.gateway(limits(1, 5));
    expect((await gateway.fetch("/auth/login", login())).status).toBe(401);
    expect((await gateway.fetch("/auth/login", login())).status).toBe(429);
    const users = await gateway.fetch("/users/me");
    expect(users.status).toBe(401);
    expect(rateHeaders(users)).toMatchObject({
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "4",
      "ratelimit-policy": '"users";q=5;w=30',
    });
  });

  test("counts a whole IPv6 /64 as one client by default: rotating addresses within it doesn't reset the limit", async () => {
    // The defaults (10 per 60 s on /auth, one client per /64) and a trusted proxy, read as the gateway reads its environment.
    const config = gatewayEnvSchema.parse({ TRUSTED_PROXIES: "127.0.0.1/32" });
    const gateway = await stack.gateway({ limits: rateLimits(config), trustedProxies: config.TRUSTED_PROXIES });
    const from = (address: string) => gateway.fetch("/auth/login", login({ "x-forwarded-for": address }));
    const statuses = [];
    for (let i = 1; i <= 10; i++) statuses.push((await from(`2001:db8:1:2::${i.toString(16)}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const denied = await from("2001:DB8:1:2:ffff:ffff:ffff:ffff");
    expect((await expectProblem(denied, 429)).detail).toContain("at most 10 per 60 s");
    expect(Number(denied.headers.get("retry-after"))).toBeWithin(1, 61);
    // The next /64 is another client, with its own budget.
    const other = await from("2001:db8:1:3::1");
    expect(other.status).toBe(401);
    expect(other.headers.get("x-ratelimit-remaining")).toBe("9");
  });

  test("never limits / and /health*", async () => {
    const gateway = await stack.gateway(limits(1, 1));
    for (let i = 0; i < 3; i++) {
      for (const path of ["/", "/health", "/health/live", "/health/ready"]) {
        const res = await gateway.fetch(path);
        expect([path, res.status, res.headers.get("x-ratelimit-limit")]).toEqual([path, 200, null]);
      }
    }
  });

  test("many concurrent authenticated requests: exactly max answered, every other one 429", async () => {
    const session = await stack.register();
    const gateway = await stack.gateway(limits(100, 10));
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async () => (await gateway.fetch("/users/me", { headers: bearer(session) })).status),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(30);
  });

  test("missing, malformed and invalid tokens count too, and a limited client gets 429 before 401", async () => {
    const session = await stack.register();
    const gateway = await stack.gateway(limits(100, 4));
    const forged = await forgeToken(session.user, { secret: "another-secret-that-is-long-enough-0123456789" });
    const remaining = [];
    for (const headers of [{}, { authorization: "Bearer not-a-jwt" }, { authorization: `Bearer ${forged}` }] as Record<string, string>[]) {
      const res = await gateway.fetch("/users/me", { headers });
      await expectProblem(res, 401);
      remaining.push(res.headers.get("x-ratelimit-remaining"));
    }
    expect(remaining).toEqual(["3", "2", "1"]);
    expect((await gateway.fetch("/users/me", { headers: bearer(session) })).status).toBe(200);
    for (const headers of [bearer(session), { authorization: `Bearer ${forged}` }, {}] as Record<string, string>[]) {
      const res = await gateway.fetch("/users/me", { headers });
      expect((await expectProblem(res, 429)).detail).toContain("at most 4 per 30 s");
    }
  });

  test("fails closed for an authenticated request too: 429 with Retry-After 60", async () => {
    const session = await stack.register();
    const store = unreachableStore();
    try {
      const gateway = await stack.gateway({ store });
      const res = await gateway.fetch("/users/me", { headers: bearer(session) });
      expect((await expectProblem(res, 429)).detail).toContain("rate limiting is unavailable");
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.headers.get("ratelimit")).toBe('"users";r=0;t=60');
    } finally {
      await store.close();
    }
  });

  test("fails closed when the store is unreachable: 429 with Retry-After, while / still answers", async () => {
    const store = unreachableStore();
    try {
      const gateway = await stack.gateway({ store });
      for (const [path, init] of [
        ["/auth/login", login()],
        ["/users/me", {}],
      ] as const) {
        const res = await gateway.fetch(path, init);
        const problem = await expectProblem(res, 429);
        expect(problem.detail).toContain("rate limiting is unavailable");
        expect(res.headers.get("retry-after")).toBe("60");
        expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
        expect(res.headers.get("ratelimit")).toEndWith(";r=0;t=60");
      }
      expect((await gateway.fetch("/")).status).toBe(200);
    } finally {
      await store.close();
    }
  });
});
