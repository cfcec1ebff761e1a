import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { AuthService } from "../gen/auth/v1/auth_pb.ts";
import { ResourceExhaustedError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
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

test("an unhandled error answers a bare problem+json 500 and is logged with the request id, route and stack", async () => {
  const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
  const capture = (msg: string, fields?: Record<string, unknown>) => void logged.push({ msg, fields });
  const log: Logger = { debug: () => {}, info: () => {}, warn: capture, error: capture, child: () => log, enabled: () => true };
  const gateway = await stack.gateway({
    log,
    auth: {
      ...stack.deps.auth,
      register: async () => {
        throw new TypeError("pool of db.internal:5432 exhausted");
      },
    },
  });
  // stack.close() closes this gateway too.
  const res = await gateway.fetch("/auth/register", jsonInit("POST", { email: "ada@example.com", password: PASSWORD, name: "Ada" }));
  const problem = await expectProblem(res, 500);
  expect(problem.detail).toBe("internal server error");
  expect(JSON.stringify(problem)).not.toContain("db.internal:5432");
  const requestId = res.headers.get("x-request-id");
  expect(problem.request_id).toBe(requestId!);

  const entry = logged.find((line) => line.msg === "unhandled error");
  expect(entry?.fields).toMatchObject({
    request_id: requestId,
    method: "POST",
    path: "/auth/register",
    error: "TypeError",
    error_message: "pool of db.internal:5432 exhausted",
  });
  expect(String(entry?.fields?.stack)).toContain("problem.test.ts");
});
