import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import { createClient, type Transport } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { startTestServer, TEST_USER, testUserRoutes } from "../../test/fixture-user-service.ts";
import { createLogger } from "../log.ts";
import { withRequest } from "../request-context.ts";
import { createRpcTransport } from "./client.ts";
import { inProcessTransport } from "./in-process.ts";
import type { RpcServer } from "./server.ts";

let server: RpcServer;
beforeAll(async () => {
  server = await startTestServer({ internalPort: 0 });
});
afterAll(() => server.close());

// The request id the service saw, as the fixture echoes it.
async function seen(transport: Transport): Promise<string | null> {
  let header: Headers | undefined;
  await createClient(UserService, transport).getUser({ id: TEST_USER.id }, { onHeader: (h) => (header = h) });
  return header?.get("x-seen-request-id") ?? null;
}

test("a call made while serving a request carries its id to the service: gRPC, the Connect hop and in-process", async () => {
  const transports = {
    grpc: createRpcTransport(server.url, { protocol: "grpc" }),
    connect: createRpcTransport(server.internalUrl!),
    inProcess: inProcessTransport(testUserRoutes),
  };
  for (const [name, transport] of Object.entries(transports)) {
    expect(`${name}: ${await withRequest({ requestId: "req-abc-123" }, () => seen(transport))}`).toBe(`${name}: req-abc-123`);
    // Outside a request the service serves the call in one of its own.
    expect(await seen(transport)).toMatch(/^[0-9a-f-]{36}$/);
  }
});

test("an id that isn't one (too long, odd characters) is replaced, not passed into the logs", async () => {
  const transport = createRpcTransport(server.internalUrl!);
  for (const bad of ["x".repeat(200), 'a"b', "a b"]) {
    const id = await seen({
      ...transport,
      unary: (method, signal, timeoutMs, header, input, contextValues) => {
        const headers = new Headers(header);
        headers.set("x-request-id", bad);
        return transport.unary(method, signal, timeoutMs, headers, input, contextValues);
      },
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  }
});

test("every log line written inside a request carries its request_id", () => {
  const writes: string[] = [];
  const spy = spyOn(process.stderr, "write").mockImplementation((chunk) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    const log = createLogger({ service: "test" });
    withRequest({ requestId: "req-log-1" }, () => log.warn("inside", { detail: 1 }));
    log.warn("outside");
  } finally {
    spy.mockRestore();
  }
  const [inside, outside] = writes.map((line) => JSON.parse(line));
  expect(inside).toMatchObject({ msg: "inside", request_id: "req-log-1", detail: 1 });
  expect(outside.request_id).toBeUndefined();
});
