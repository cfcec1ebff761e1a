import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { createRpcTransport, type RpcTransportOptions } from "./client.ts";
import { TEST_USER } from "../../test/fixture-user-service.ts";

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** rawPeer listens on a free port and lets `onSocket` misbehave with each connection. */
async function rawPeer(onSocket: (socket: net.Socket) => void): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

// Both protocols the services speak: the Connect hop (default) and gRPC (h2c).
const PROTOCOLS: NonNullable<RpcTransportOptions["protocol"]>[] = ["connect", "grpc"];

describe.each(PROTOCOLS)("%s", (protocol) => {
  const callGetUser = async (url: string, timeoutMs = 300) => {
    const started = Date.now();
    const client = createClient(UserService, createRpcTransport(url, { timeoutMs, protocol }));
    const err = await client.getUser({ id: TEST_USER.id }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    return { code: err?.code, ms: Date.now() - started };
  };

  test("a peer that accepts but never answers gives DeadlineExceeded at the default deadline", async () => {
    const url = await rawPeer(() => {});
    const { code, ms } = await callGetUser(url);
    expect(code).toBe(Code.DeadlineExceeded);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(2000);
  });

  test("a port nobody listens on gives Unavailable at once", async () => {
    const url = await rawPeer(() => {});
    for (const s of servers.splice(0)) s.close();
    const { code, ms } = await callGetUser(url, 5000);
    expect(code).toBe(Code.Unavailable);
    expect(ms).toBeLessThan(1000);
  });

  test("a peer that drops the connection gives Unavailable at once, not Canceled", async () => {
    const url = await rawPeer((socket) => socket.once("data", () => socket.destroy()));
    const { code, ms } = await callGetUser(url, 5000);
    expect(code).toBe(Code.Unavailable);
    expect(ms).toBeLessThan(1000);
  });

  test("a peer killed mid-call gives Unavailable at once", async () => {
    const script = `const { startTestServer } = await import(${JSON.stringify(join(import.meta.dir, "../../test/fixture-user-service.ts"))});
      console.log((await startTestServer()).url);`;
    const peer = Bun.spawn(["bun", "-e", script], { stdout: "pipe" });
    try {
      const url = (await peer.stdout.getReader().read()).value;
      const client = createClient(UserService, createRpcTransport(new TextDecoder().decode(url).trim(), { protocol }));
      const before = Date.now();
      const slow = client.listUsers({ pageSize: 3000 }).catch((e: unknown) => ConnectError.from(e));
      await Bun.sleep(200);
      peer.kill("SIGKILL");
      expect(await slow).toMatchObject({ code: Code.Unavailable });
      expect(Date.now() - before).toBeLessThan(1500);
    } finally {
      peer.kill("SIGKILL");
    }
  });

  test("a call the caller cancels stays Canceled", async () => {
    const url = await rawPeer(() => {});
    const client = createClient(UserService, createRpcTransport(url, { protocol }));
    const err = await client.getUser({ id: TEST_USER.id }, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.Canceled });
  });
});

test("connect: an answer's header and trailer reach the caller; a field Headers refuses is left out, not thrown at the reader", async () => {
  const url = await rawPeer((socket) => {
    socket.once("data", () =>
      socket.end(
        "HTTP/1.1 200 OK\r\ncontent-type: application/proto\r\nx-answer: yes\r\nbad name: x\r\ntrailer-x-done: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
      ),
    );
  });
  const client = createClient(UserService, createRpcTransport(url));
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  await client.getUser({ id: TEST_USER.id }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
  expect(header?.get("x-answer")).toBe("yes");
  expect(header?.get("content-type")).toBe("application/proto");
  expect([...(header?.keys() ?? [])]).not.toContain("bad name");
  expect(trailer?.get("x-done")).toBe("1");
});
