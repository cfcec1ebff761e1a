// The in-process transport re-implements part of connect's unary call path (unary-call.ts) to skip
// its per-call machinery (≈ 60 µs of CPU per call through createRouterTransport, ≈ 9 µs this way:
// BENCHMARKS.md). These tests run the same calls through connect's own router transport and
// compare everything a caller can observe, so a connect-es upgrade that changes what the shortcut
// relies on fails here, loudly, rather than in production.
import { expect, test } from "bun:test";
import { toJson } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createClient,
  createRouterTransport,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { UserResponseSchema, UserService } from "../../gen/user/v1/user_pb.ts";
import { TEST_USER, testUserRoutes } from "../../test/fixture-user-service.ts";
import { ResourceExhaustedError } from "../errors.ts";
import { errorInterceptor } from "./errors.ts";
import { inProcessTransport } from "./in-process.ts";

// What the implementation and a server interceptor may do: answer, fail with code, metadata and
// details, read and add headers.
const routes = (router: ConnectRouter) => {
  testUserRoutes(router);
  router.rpc(UserService.method.getUserByEmail, (req, ctx) => {
    if (req.email === "busy@example.com") throw new ResourceExhaustedError("hashing is busy", 3);
    if (req.email === "detailed@example.com") {
      const detail = { desc: HealthCheckResponseSchema, value: { status: ServingStatus.NOT_SERVING } };
      throw new ConnectError("with details", Code.FailedPrecondition, { "x-why": "because" }, [detail]);
    }
    ctx.responseHeader.set("x-seen-by-server", ctx.requestHeader.get("x-added-by-client") ?? "none");
    return { ...TEST_USER, email: req.email };
  });
};
const stamp: Interceptor = (next) => async (req) => {
  const res = await next(req);
  res.header.set("x-server-interceptor", req.method.name);
  return res;
};
const addHeader: Interceptor = (next) => (req) => {
  req.header.set("x-added-by-client", "yes");
  return next(req);
};

const viaConnect = createRouterTransport(routes, {
  router: { interceptors: [errorInterceptor(), stamp] },
  transport: { interceptors: [addHeader] },
});
const viaShortcut = inProcessTransport(routes, { interceptors: [stamp], clientInterceptors: [addHeader] });

// What a caller can observe of one call's result; protocol-only headers are left out (content-type
// and the like exist only on the wire). Headers and trailers of answers are compared below.
const WIRE_ONLY = new Set(["content-type", "content-length", "content-encoding", "accept-encoding", "connect-protocol-version"]);
const visible = (headers: Headers | undefined) => [...(headers ?? new Headers())].filter(([key]) => !WIRE_ONLY.has(key));
async function observe(transport: Transport, call: (client: ReturnType<typeof createClient<typeof UserService>>) => Promise<unknown>) {
  try {
    return { ok: toJson(UserResponseSchema, (await call(createClient(UserService, transport))) as never) };
  } catch (e) {
    const error = ConnectError.from(e);
    return {
      code: Code[error.code],
      message: error.rawMessage,
      metadata: visible(error.metadata),
      details: error.findDetails(HealthCheckResponseSchema).map((d) => d.status),
    };
  }
}

const cases: [string, (client: ReturnType<typeof createClient<typeof UserService>>) => Promise<unknown>][] = [
  ["a unary answer", (c) => c.getUser({ id: TEST_USER.id })],
  ["an answer with response header and trailer", (c) => c.getUser({ id: TEST_USER.id }, { headers: { "x-echo": "hi" } })],
  ["headers a client interceptor added, seen by the implementation", (c) => c.getUserByEmail({ email: "a@example.com" })],
  ["a Connect error thrown by the implementation", (c) => c.getUser({ id: "missing" })],
  ["a domain error with metadata (retry-after)", (c) => c.getUserByEmail({ email: "busy@example.com" })],
  ["an error with details and metadata", (c) => c.getUserByEmail({ email: "detailed@example.com" })],
  ["a timeout of zero or less, which connect reads as no deadline", (c) => c.getUser({ id: TEST_USER.id }, { timeoutMs: -1 })],
  ["a deadline the call outlives", (c) => c.listUsers({ pageSize: 50 }, { timeoutMs: 5 }).then(() => TEST_USER)],
];

for (const [name, call] of cases) {
  test(`in-process and connect's router transport agree: ${name}`, async () => {
    expect(await observe(viaShortcut, call)).toEqual(await observe(viaConnect, call));
  });
}

test("response headers and trailers reach onHeader/onTrailer the same way on both", async () => {
  const seen = async (transport: Transport) => {
    const got: Record<string, string | null> = {};
    await createClient(UserService, transport).getUser(
      { id: TEST_USER.id },
      {
        headers: { "x-echo": "hello" },
        onHeader: (h) => {
          got.header = h.get("x-echo");
          got.stamp = h.get("x-server-interceptor");
        },
        onTrailer: (t) => {
          got.trailer = t.get("x-echo-trailer");
        },
      },
    );
    return got;
  };
  expect(await seen(viaShortcut)).toEqual(await seen(viaConnect));
  expect(await seen(viaShortcut)).toEqual({ header: "hello", stamp: "GetUser", trailer: "hello" });
});
