// X-Request-Id (request-id.ts, set by the edge middleware): at most 128 characters of [A-Za-z0-9_=-],
// as hono's requestId middleware accepts; these tests pin it end to end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectProblem, startTestStack, type TestStack } from "../../test/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const requestId = async (value?: string) =>
  (await stack.fetch("/", { headers: value === undefined ? {} : { "x-request-id": value } })).headers.get("x-request-id");

describe("X-Request-Id", () => {
  test("echoes a valid id", async () => {
    for (const id of ["abc-123", "trace_ABC=", "a".repeat(128)]) expect(await requestId(id)).toBe(id);
  });

  test("replaces a missing or invalid id with a fresh UUID", async () => {
    for (const id of [undefined, "", "has space", "semi;colon", "<script>", "a".repeat(129), "café"]) {
      const echoed = await requestId(id);
      expect(echoed).toMatch(UUID);
      expect(echoed).not.toBe(id);
    }
  });

  test("is in every problem body too", async () => {
    const res = await stack.fetch("/users/me", { headers: { "x-request-id": "problem-trace-1" } });
    const problem = await expectProblem(res, 401);
    expect(problem.request_id).toBe("problem-trace-1");
    expect(res.headers.get("x-request-id")).toBe("problem-trace-1");
  });
});
