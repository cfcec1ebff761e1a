// The auth service's own limits, reached through the gateway with its limits out of the way: per
// client network (the address the gateway resolved behind a trusted proxy) and per account.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectProblem, jsonInit, PASSWORD, startTestStack, type TestStack, uniqueEmail } from "../../../test/stack.ts";
import { parseTrustedProxies } from "../../middleware/client-ip.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack(
    { trustedProxies: parseTrustedProxies("127.0.0.1/32") },
    {
      perAddress: { max: 10, windowSeconds: 60 },
      perAccount: { max: 5, windowSeconds: 900 },
      mail: { perEmail: { max: 3, windowSeconds: 3600 }, perAddress: { max: 10, windowSeconds: 3600 } },
      prefixes: { ipv4: 32, ipv6: 64 },
    },
  );
});
afterAll(() => stack.close());

const login = (email: string, password: string, from: string) =>
  stack.fetch("/auth/login", jsonInit("POST", { email, password }, { "x-forwarded-for": from }));

describe("per client network", () => {
  test("11 logins from 11 addresses of one IPv6 /64: the 11th is 429 with Retry-After; the next /64 is another client", async () => {
    const statuses = [];
    for (let i = 1; i <= 10; i++) statuses.push((await login(uniqueEmail(), PASSWORD, `2001:db8:aa:1::${i.toString(16)}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const denied = await login(uniqueEmail(), PASSWORD, "2001:db8:aa:1:ffff::1");
    await expectProblem(denied, 429);
    expect(Number(denied.headers.get("retry-after"))).toBeWithin(1, 61);
    expect((await login(uniqueEmail(), PASSWORD, "2001:db8:aa:2::1")).status).toBe(401);
  });

  test("registrations are limited the same way", async () => {
    const register = () =>
      stack.fetch(
        "/auth/register",
        jsonInit("POST", { email: uniqueEmail(), password: PASSWORD, name: "R" }, { "x-forwarded-for": "198.51.100.7" }),
      );
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await register()).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(statuses[10]).toBe(429);
  });
});

describe("per account", () => {
  test("6 wrong passwords for one email from 6 addresses: the 6th is 429, and the right password then too", async () => {
    const { user } = await stack.register();
    const statuses = [];
    for (let i = 1; i <= 5; i++) statuses.push((await login(user.email, "wrong password", `203.0.113.${i}`)).status);
    expect(statuses).toEqual(Array(5).fill(401));
    const denied = await login(user.email, "wrong password", "203.0.113.6");
    const problem = await expectProblem(denied, 429);
    expect(problem.detail).toContain("this account");
    expect(Number(denied.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectProblem(await login(user.email, PASSWORD, "203.0.113.7"), 429);
  });

  test("answers the same for an email nobody has", async () => {
    const email = uniqueEmail("nobody");
    for (let i = 1; i <= 5; i++) expect((await login(email, "whatever", `192.0.2.${i}`)).status).toBe(401);
    await expectProblem(await login(email, "whatever", "192.0.2.6"), 429);
  });

  test("a successful login resets the count; the email is counted whatever its case", async () => {
    const { user } = await stack.register();
    for (let i = 1; i <= 4; i++) expect((await login(user.email.toUpperCase(), "wrong", `198.18.0.${i}`)).status).toBe(401);
    expect((await login(user.email, PASSWORD, "198.18.0.5")).status).toBe(200);
    for (let i = 1; i <= 4; i++) expect((await login(user.email, "wrong", `198.18.1.${i}`)).status).toBe(401);
    expect((await login(user.email, PASSWORD, "198.18.1.5")).status).toBe(200);
  });

  test("a wrong current_password counts as a failed sign-in", async () => {
    const session = await stack.register();
    const put = (current: string) =>
      stack.fetch(
        `/users/${session.user.id}`,
        jsonInit("PUT", { password: "another passphrase", current_password: current }, { authorization: `Bearer ${session.access_token}` }),
      );
    for (let i = 0; i < 5; i++) await expectProblem(await put("not my password"), 401);
    await expectProblem(await put(PASSWORD), 429);
    await expectProblem(await login(session.user.email, PASSWORD, "198.19.0.1"), 429);
  });
});
