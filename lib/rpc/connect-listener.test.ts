// The behaviour every path into a service must keep, run against each: gRPC over h2c and Connect
// on the service port, and Connect on the internal listener (the fast path and connect's own
// handlers behind it). Then what only the internal listener needs proving: bad input, the
// protocols it hands to connect, shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { GetUserRequestSchema, UserService } from "../../gen/user/v1/user_pb.ts";
import { TEST_USER } from "../../test/fixture-user-service.ts";
import { aborted, behaviourRoutes } from "../../test/rpc-behaviour.ts";
import { createRpcTransport } from "./client.ts";
import { errorInterceptor } from "./errors.ts";
import { ServingStatus } from "./health.ts";
import { startRpcServer, type RpcServer, type RpcServerOptions } from "./server.ts";

const start = (options: Partial<RpcServerOptions> = {}) =>
  startRpcServer({
    host: "127.0.0.1",
    port: 0,
    internalPort: 0,
    routes: behaviourRoutes,
    services: [UserService],
    interceptors: [errorInterceptor()],
    log: () => {},
    ...options,
  });

const credential: Interceptor = (next) => (req) => {
  req.header.set("authorization", "Bearer test-credential");
  return next(req);
};

type Path = { name: string; transport: (server: RpcServer, options?: { timeoutMs?: number }) => Transport };
const PATHS: Path[] = [
  {
    name: "gRPC (h2c) on the service port",
    transport: (s, o) => createRpcTransport(s.url, { ...o, protocol: "grpc", interceptors: [credential] }),
  },
  { name: "Connect on the service port", transport: (s, o) => createRpcTransport(s.url, { ...o, interceptors: [credential] }) },
  { name: "Connect on the internal port", transport: (s, o) => createRpcTransport(s.internalUrl!, { ...o, interceptors: [credential] }) },
];

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe.each(PATHS)("$name", ({ transport }) => {
  let server: RpcServer;
  let client: ReturnType<typeof createClient<typeof UserService>>;
  beforeAll(async () => {
    server = await start();
    client = createClient(UserService, transport(server));
  });
  afterAll(() => server.close());

  test("answers, with response headers and trailers, and request headers reach the handler", async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const user = await client.getUser(
      { id: TEST_USER.id },
      { headers: { "x-echo": "hello" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expect(user.email).toBe(TEST_USER.email);
    expect(header?.get("x-echo")).toBe("hello");
    expect(trailer?.get("x-echo-trailer")).toBe("hello");
    expect((await client.getUser({ id: "authorization" })).name).toBe("Bearer test-credential");
  });

  test("carries codes, messages, error details and error metadata", async () => {
    expect(await failure(client.getUser({ id: "nobody" }))).toMatchObject({ code: Code.NotFound, rawMessage: "user nobody not found" });
    const detailed = await failure(client.getUser({ id: "details" }));
    expect(detailed).toMatchObject({ code: Code.InvalidArgument, rawMessage: "bad id" });
    expect(detailed?.findDetails(GetUserRequestSchema).map((d) => d.id)).toEqual(["why"]);
    expect(detailed?.metadata.get("x-error-meta")).toBe("m");
    expect(detailed?.metadata.get("x-trailer-on-error")).toBe("t");
    const busy = await failure(client.getUser({ id: "busy" }));
    expect(busy).toMatchObject({ code: Code.ResourceExhausted, rawMessage: "slow down" });
    expect(busy?.metadata.get("retry-after")).toBe("7");
    expect(await failure(client.getUser({ id: "boom" }))).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
  });

  test("the client's deadline reaches the handler and ends the call with DeadlineExceeded", async () => {
    expect(Number((await client.getUser({ id: "deadline" }, { timeoutMs: 4000 })).name)).toBeWithin(3000, 4001);
    const started = Date.now();
    expect(await failure(client.listUsers({ pageSize: 3000 }, { timeoutMs: 150 }))).toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test("the transport's default deadline applies to calls that set none", async () => {
    const short = createClient(UserService, transport(server, { timeoutMs: 150 }));
    expect(await failure(short.listUsers({ pageSize: 3000 }))).toMatchObject({ code: Code.DeadlineExceeded });
  });

  test("a caller's cancellation is Canceled, and the handler's signal aborts", async () => {
    const before = aborted.length;
    const abort = new AbortController();
    const call = failure(client.getUser({ id: "wait" }, { signal: abort.signal }));
    while (aborted.length === before) await Bun.sleep(5);
    abort.abort();
    expect(await call).toMatchObject({ code: Code.Canceled });
    expect(await Promise.race([aborted[before], Bun.sleep(2000).then(() => "not aborted")])).not.toBe("not aborted");
  });

  test("the server's maxTimeoutMs caps a longer deadline", async () => {
    const capped = await start({ maxTimeoutMs: 200 });
    try {
      const started = Date.now();
      const slow = createClient(UserService, transport(capped)).listUsers({ pageSize: 3000 }, { timeoutMs: 60_000 });
      expect(await failure(slow)).toMatchObject({ code: Code.DeadlineExceeded });
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await capped.close();
    }
  });

  test("a request over readMaxBytes is ResourceExhausted, and the next call still works", async () => {
    const small = await start({ readMaxBytes: 1024 });
    try {
      const c = createClient(UserService, transport(small));
      expect(await failure(c.getUser({ id: "x".repeat(2000) }))).toMatchObject({ code: Code.ResourceExhausted });
      expect((await c.getUser({ id: TEST_USER.id })).id).toBe(TEST_USER.id);
    } finally {
      await small.close();
    }
  });

  test("health answers, and a Watch stream delivers changes", async () => {
    const health = createClient(Health, transport(server));
    expect((await health.check({ service: "user.v1.UserService" })).status).toBe(ServingStatus.SERVING);
    const abort = new AbortController();
    const stream = health.watch({ service: "later.v1.Later" }, { signal: abort.signal, timeoutMs: 0 })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    const next = stream.next();
    server.health.set("later.v1.Later", ServingStatus.SERVING);
    expect((await next).value?.status).toBe(ServingStatus.SERVING);
    abort.abort();
  });

  test("close lets an in-flight call finish, and cancels one still running at shutdownTimeoutMs with Unavailable", async () => {
    const finishing = await start();
    const slow = createClient(UserService, transport(finishing)).listUsers({ pageSize: 300 });
    await Bun.sleep(50);
    await finishing.close();
    expect((await slow).users).toHaveLength(1);

    const stuck = await start({ shutdownTimeoutMs: 100 });
    const never = failure(createClient(UserService, transport(stuck)).listUsers({ pageSize: 5000 }));
    await Bun.sleep(50);
    const started = Date.now();
    await stuck.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await never).toMatchObject({ code: Code.Unavailable });
  });
});

describe("the internal listener", () => {
  let server: RpcServer;
  beforeAll(async () => (server = await start({ readMaxBytes: 1024 })));
  afterAll(() => server.close());

  const post = (body: RequestInit["body"], headers: Record<string, string>, path = "/user.v1.UserService/GetUser") =>
    fetch(`${server.internalUrl}${path}`, { method: "POST", body, headers });
  const errorOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { code?: string }).code });

  test("answers a wrong content-type with 415", async () => {
    expect((await post("hello", { "content-type": "text/plain" })).status).toBe(415);
  });

  test("answers truncated or garbage protobuf with InvalidArgument, not a 500", async () => {
    for (const body of [Uint8Array.of(0x0a, 0x10, 0x61), Uint8Array.of(0xff, 0xff, 0xff, 0xff)]) {
      expect(await errorOf(await post(body, { "content-type": "application/proto" }))).toEqual({ status: 400, code: "invalid_argument" });
    }
  });

  test("answers a body over readMaxBytes with ResourceExhausted, with or without a content-length", async () => {
    const big = toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { id: "x".repeat(5000) }));
    expect(await errorOf(await post(big, { "content-type": "application/proto" }))).toEqual({ status: 429, code: "resource_exhausted" });
    const chunked = new Blob([big]).stream();
    expect(await errorOf(await post(chunked, { "content-type": "application/proto" }))).toEqual({
      status: 429,
      code: "resource_exhausted",
    });
    const huge = new Uint8Array(200 * 1024 * 1024); // over Bun's default body limit (128 MiB) too
    expect(await errorOf(await post(huge, { "content-type": "application/proto" }))).toEqual({ status: 429, code: "resource_exhausted" });
  });

  test("answers a malformed timeout with InvalidArgument", async () => {
    const body = toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { id: TEST_USER.id }));
    expect(await errorOf(await post(body, { "content-type": "application/proto", "connect-timeout-ms": "soon" }))).toEqual({
      status: 400,
      code: "invalid_argument",
    });
  });

  test("serves Connect JSON, gRPC-Web and connect-node's Connect transport through connect's handlers", async () => {
    const res = await post(JSON.stringify({ id: TEST_USER.id }), { "content-type": "application/json" });
    expect(((await res.json()) as { email: string }).email).toBe(TEST_USER.email);
    for (const transport of [
      createGrpcWebTransport({ baseUrl: server.internalUrl!, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: server.internalUrl!, httpVersion: "1.1", useBinaryFormat: true }),
    ]) {
      expect((await createClient(UserService, transport).getUser({ id: TEST_USER.id })).email).toBe(TEST_USER.email);
    }
  });

  test("answers native gRPC with 415 (it needs trailers: the service port serves it) and unknown paths with 404", async () => {
    expect((await post(new Uint8Array(5), { "content-type": "application/grpc" })).status).toBe(415);
    expect((await post("{}", { "content-type": "application/json" }, "/nope.v1.Nope/Nope")).status).toBe(404);
  });
});
