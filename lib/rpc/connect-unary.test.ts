// The fast path against connect's own universal handler, answer for answer: the same requests to
// both, and the status, every header and every body byte must match. connect-unary.ts uses
// connect's private protocol helpers (errorToJsonBytes, codeToHttpStatus, parseTimeout,
// mergeNonProtocolHeaders); a connect-es upgrade that changes what they or the handler do fails here.
import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { GetUserRequestSchema, ListUsersRequestSchema } from "../../gen/user/v1/user_pb.ts";
import { TEST_USER } from "../../test/fixture-user-service.ts";
import { behaviourRoutes } from "../../test/rpc-behaviour.ts";
import { createConnectUnaryHandler } from "./connect-unary.ts";
import { answerAtDeadline } from "./deadline.ts";
import { errorInterceptor } from "./errors.ts";
import type { Http1Answer, Http1Request } from "./http1-server.ts";

const READ_MAX = 1024;
const MAX_TIMEOUT = 30_000;
const interceptors: Interceptor[] = [answerAtDeadline, errorInterceptor()];
const options = { interceptors, readMaxBytes: READ_MAX, maxTimeoutMs: MAX_TIMEOUT, shutdownSignal: new AbortController().signal };
const fast = createConnectUnaryHandler({ routes: behaviourRoutes, ...options });
const router = createConnectRouter(options);
behaviourRoutes(router);
const connectHandlers = new Map(router.handlers.map((h) => [h.requestPath, createFetchHandler(h)]));

const BASE = "http://127.0.0.1:1";
const getUser = (id: string) => toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { id }));

type Call = { path: string; body: Uint8Array; headers?: Record<string, string> };
const connectRequest = ({ path, body, headers }: Call) =>
  new Request(BASE + path, {
    method: "POST",
    body,
    headers: { "content-type": "application/proto", "content-length": String(body.length), "connect-protocol-version": "1", ...headers },
  });

/** request is the same call as the internal listener hands it to the fast path. */
const request = (call: Call): Http1Request => ({
  method: "POST",
  target: call.path,
  headers: connectRequest(call).headers,
  body: call.body,
  tooLarge: false,
  peer: "127.0.0.1",
});
const toResponse = (a: Http1Answer) => new Response(a.body, { status: a.status, headers: a.headers });

/** answer is what a client sees: status, headers (sorted; content-length is the body's), body bytes. */
async function answer(response: Response) {
  const body = new Uint8Array(await response.arrayBuffer());
  const headers = [...response.headers].filter(([k]) => k !== "content-length").sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, headers, body: Buffer.from(body).toString("base64") };
}

async function both(call: Call) {
  const ours = fast(request(call));
  if (!ours) throw new Error(`the fast path declined ${call.path}`);
  const theirs = connectHandlers.get(call.path.split("?")[0]!)!(connectRequest(call));
  return { ours: await answer(toResponse(await ours)), theirs: await answer(await theirs) };
}

const USER = "/user.v1.UserService/GetUser";
const SAME: Record<string, Call> = {
  "a success": { path: USER, body: getUser(TEST_USER.id) },
  "response headers and trailers": { path: USER, body: getUser(TEST_USER.id), headers: { "x-echo": "hi" } },
  "a NotFound": { path: USER, body: getUser("nobody") },
  "error details, error metadata and trailers set before the error": { path: USER, body: getUser("details") },
  "a domain error with metadata (Retry-After)": { path: USER, body: getUser("busy") },
  "an unexpected error, hidden as Internal": { path: USER, body: getUser("boom") },
  "a malformed connect-timeout-ms": { path: USER, body: getUser(TEST_USER.id), headers: { "connect-timeout-ms": "soon" } },
  "a body over readMaxBytes": { path: USER, body: getUser("x".repeat(READ_MAX + 10)) },
  "the deadline passing": {
    path: "/user.v1.UserService/ListUsers",
    body: toBinary(ListUsersRequestSchema, create(ListUsersRequestSchema, { pageSize: 2000 })),
    headers: { "connect-timeout-ms": "50" },
  },
  "a query string on the path": { path: `${USER}?x=1`, body: getUser(TEST_USER.id) },
};

describe("the fast path answers exactly as connect's handler", () => {
  for (const [name, call] of Object.entries(SAME)) {
    test(name, async () => {
      const { ours, theirs } = await both(call);
      expect(ours).toEqual(theirs);
    });
  }
});

test("the one deliberate difference: a body that isn't the message is InvalidArgument (400), where connect says Internal (500)", async () => {
  const { ours, theirs } = await both({ path: USER, body: Uint8Array.of(0x0a, 0x10, 0x61) }); // a string field cut short
  expect(ours.status).toBe(400);
  expect(JSON.parse(Buffer.from(ours.body, "base64").toString())).toEqual({
    code: "invalid_argument",
    message: "parse binary: premature EOF",
  });
  // If connect-es starts answering this as we do, drop the difference (connect-unary.ts parse()).
  expect(theirs.status).toBe(500);
  expect(JSON.parse(Buffer.from(theirs.body, "base64").toString())).toEqual({ code: "internal", message: "parse binary: premature EOF" });
});

test("the deadline a handler sees is the client's, capped at maxTimeoutMs, or maxTimeoutMs", async () => {
  const remaining = async (headers: Record<string, string>) => {
    const response = await fast(request({ path: USER, body: getUser("deadline"), headers }))!;
    const { fromBinary } = await import("@bufbuild/protobuf");
    const { UserResponseSchema } = await import("../../gen/user/v1/user_pb.ts");
    return Number(fromBinary(UserResponseSchema, response.body).name);
  };
  expect(await remaining({ "connect-timeout-ms": "5000" })).toBeWithin(4900, 5001);
  expect(await remaining({ "connect-timeout-ms": "99999999" })).toBeWithin(MAX_TIMEOUT - 100, MAX_TIMEOUT + 1);
  expect(await remaining({})).toBeWithin(MAX_TIMEOUT - 100, MAX_TIMEOUT + 1);
});

describe("everything else is left to connect's handlers", () => {
  type Init = { method: string; headers: Record<string, string>; path?: string };
  const declines = (init: Init) =>
    fast({
      method: init.method,
      target: init.path ?? USER,
      headers: new Headers(init.headers),
      body: Buffer.from("abc"),
      tooLarge: false,
      peer: "",
    }) === undefined;
  const proto = { "content-type": "application/proto", "content-length": "3" };
  test.each([
    ["JSON", { method: "POST", headers: { "content-type": "application/json" } }],
    ["GET", { method: "GET", headers: proto }],
    ["a compressed body", { method: "POST", headers: { ...proto, "content-encoding": "gzip" } }],
    ["gRPC-Web", { method: "POST", headers: { ...proto, "content-type": "application/grpc-web+proto" } }],
    ["a streaming method", { method: "POST", path: "/grpc.health.v1.Health/Watch", headers: proto }],
    ["an unknown path", { method: "POST", path: "/nope.v1.Nope/Nope", headers: proto }],
  ] as const)("%s", (_, init) => {
    expect(declines(init)).toBe(true);
  });
});
