import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { AuthService } from "../gen/auth/v1/auth_pb.ts";
import { ResourceExhaustedError } from "../lib/errors.ts";
import { inProcessTransport } from "../lib/rpc/in-process.ts";
import { expectProblem, jsonInit, PASSWORD, startTestStack, type TestStack } from "../test/stack.ts";

// The auth service at capacity, at the network edge: its password-hashing bound is full.
const saturated = createClient(
  AuthService,
  inProcessTransport((router) =>
    router.service(AuthService, {
      login() {
        throw new ResourceExhaustedError("too many password hashes in progress", 7);
      },
    }),
  ),
);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ auth: saturated });
});
afterAll(() => stack.close());

test("a service at capacity answers 503 problem+json with the service's Retry-After", async () => {
  const res = await stack.fetch("/auth/login", jsonInit("POST", { email: "ada@example.com", password: PASSWORD }));
  expect(res.headers.get("retry-after")).toBe("7");
  const problem = await expectProblem(res, 503);
  expect(problem.detail).toBe("the service is at capacity; retry shortly");
});
