import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, expectProblem, PASSWORD, startTestStack, uniqueEmail, type TestStack } from "../../test/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const KiB = 1024;
const register = (contentType: string, body: string) =>
  stack.fetch("/auth/register", { method: "POST", headers: { "content-type": contentType }, body });
const valid = () => JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "Ada" });

describe("jsonBody", () => {
  test("accepts JSON with parameters or in any case", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]) {
      expect([type, (await register(type, valid())).status]).toEqual([type, 201]);
    }
  });

  test("names the refused type in the 415", async () => {
    const problem = await expectProblem(await register("text/html; charset=utf-8", valid()), 415);
    expect(problem.detail).toBe("the request body must be application/json, not text/html");
  });

  test("lets a body of exactly the limit through to validation, and refuses one byte more", async () => {
    const padded = (size: number) => {
      const body = valid();
      return `${body.slice(0, -1)}${" ".repeat(size - body.length)}}`;
    };
    expect((await register("application/json", padded(16 * KiB))).status).toBe(201);
    await expectProblem(await register("application/json", padded(16 * KiB + 1)), 413);
  });

  test("leaves requests without a body alone", async () => {
    const session = await stack.register();
    expect((await stack.fetch("/users/me", { headers: { ...bearer(session), "content-type": "text/plain" } })).status).toBe(200);
    expect((await stack.fetch("/auth/logout", { method: "POST", headers: bearer(session) })).status).toBe(204);
  });
});
