import { expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { ResourceExhaustedError } from "../errors.ts";
import { createHealth } from "./health.ts";
import { inProcessTransport } from "./in-process.ts";
import { sendCredential } from "./callers.ts";

test("a unary call reaches the implementation with the headers the client's interceptors set", async () => {
  let seen: string | null | undefined;
  const transport = inProcessTransport(
    (router) =>
      router.rpc(Health.method.check, (req, ctx) => {
        seen = ctx.requestHeader.get("authorization");
        return { status: req.service === "up" ? ServingStatus.SERVING : ServingStatus.NOT_SERVING };
      }),
    { clientInterceptors: [sendCredential("credential")] },
  );
  const res = await createClient(Health, transport).check({ service: "up" });
  expect(res.status).toBe(ServingStatus.SERVING);
  expect(seen).toBe("Bearer credential");
});

test("a domain error reaches the caller as its Connect code, with its metadata", async () => {
  const transport = inProcessTransport((router) =>
    router.rpc(Health.method.check, () => {
      throw new ResourceExhaustedError("busy", 3);
    }),
  );
  const error = await createClient(Health, transport)
    .check({})
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectError);
  expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
  expect((error as ConnectError).metadata.get("retry-after")).toBe("3");
});

test("a unary call that outlives the caller's deadline fails with DeadlineExceeded", async () => {
  const transport = inProcessTransport((router) =>
    router.rpc(
      Health.method.check,
      (_req, ctx) => new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    ),
  );
  const error = await createClient(Health, transport)
    .check({}, { timeoutMs: 30 })
    .catch((e: unknown) => e);
  expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
});

test("a server stream (health Watch) still works: it takes connect's router path, and later changes arrive", async () => {
  const health = createHealth(["svc"]);
  const transport = inProcessTransport(() => {}, { health });
  const abort = new AbortController();
  const stream = createClient(Health, transport).watch({ service: "svc" }, { signal: abort.signal })[Symbol.asyncIterator]();
  expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
  const next = stream.next();
  health.set("svc", ServingStatus.NOT_SERVING);
  expect((await next).value?.status).toBe(ServingStatus.NOT_SERVING);
  abort.abort();
  health.close();
});

test("the deadline fails a call even when the implementation never looks at ctx.signal", async () => {
  const transport = inProcessTransport((router) => router.rpc(Health.method.check, () => new Promise(() => {})));
  const error = await createClient(Health, transport)
    .check({}, { timeoutMs: 30 })
    .catch((e: unknown) => e);
  expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
});

test("a caller's abort cancels the call; the implementation sees the abort on ctx.signal", async () => {
  const seen = Promise.withResolvers<boolean>();
  const transport = inProcessTransport((router) =>
    router.rpc(Health.method.check, (_req, ctx) => {
      ctx.signal.addEventListener("abort", () => seen.resolve(true));
      return new Promise(() => {});
    }),
  );
  const abort = new AbortController();
  const call = createClient(Health, transport)
    .check({}, { signal: abort.signal, timeoutMs: 60_000 })
    .catch((e: unknown) => e);
  abort.abort();
  expect(((await call) as ConnectError).code).toBe(Code.Canceled);
  expect(await seen.promise).toBe(true);
});

test("response headers and trailers set by the implementation reach the caller", async () => {
  const transport = inProcessTransport((router) =>
    router.rpc(Health.method.check, (_req, ctx) => {
      ctx.responseHeader.set("x-answer", "42");
      ctx.responseTrailer.set("x-trailer", "yes");
      return { status: ServingStatus.SERVING };
    }),
  );
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  await createClient(Health, transport).check({}, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
  expect(header?.get("x-answer")).toBe("42");
  expect(trailer?.get("x-trailer")).toBe("yes");
});

test("a finished call leaves no listener on the caller's signal", async () => {
  const transport = inProcessTransport((router) => router.rpc(Health.method.check, () => ({ status: ServingStatus.SERVING })));
  const { signal } = new AbortController();
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  };
  const client = createClient(Health, transport);
  for (let i = 0; i < 3; i++) await client.check({}, { signal });
  expect(listeners).toBe(0);
});
