import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { createRpcTransport } from "./client.ts";
import { ServingStatus } from "./health.ts";
import type { RpcServer } from "./server.ts";
import { PortInUseError } from "../listen.ts";
import { grpcJsClient, grpcJsMethod, grpcJsUnary } from "../../test/grpc-js.ts";
import { slowCalls, startTestServer, TEST_USER } from "../../test/fixture-user-service.ts";

const getUser = grpcJsMethod("user/v1/user.proto", "user.v1.UserService", "GetUser");

describe("one port, every protocol", () => {
  let server: RpcServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  test("serves Connect JSON over HTTP/1.1 to a plain fetch", async () => {
    const res = await fetch(`${server.url}/user.v1.UserService/GetUser`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: TEST_USER.id }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: TEST_USER.id, email: TEST_USER.email });
  });

  test("answers an unknown Connect call with a 404 error body, not a crash", async () => {
    const res = await fetch(`${server.url}/user.v1.UserService/GetUser`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "nobody" }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });

  test("serves gRPC over h2c to the connect-node client", async () => {
    const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    expect((await client.getUser({ id: TEST_USER.id })).email).toBe(TEST_USER.email);
    const err = await client.getUser({ id: "nobody" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.NotFound });
  });

  test("serves Connect over h2c and gRPC-Web over HTTP/1.1", async () => {
    const connect = createClient(UserService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    const web = createClient(UserService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    expect((await connect.getUser({ id: TEST_USER.id })).name).toBe(TEST_USER.name);
    expect((await web.getUser({ id: TEST_USER.id })).name).toBe(TEST_USER.name);
  });

  test("serves grpc-js: unary call, metadata both ways, status codes", async () => {
    const client = grpcJsClient(server.url);
    try {
      const metadata = new grpc.Metadata();
      metadata.set("x-echo", "hello");
      const { response, header, trailer } = await grpcJsUnary(client, getUser, { id: TEST_USER.id }, { metadata });
      expect(response).toMatchObject({ id: TEST_USER.id, email: TEST_USER.email, name: TEST_USER.name });
      expect(header.get("x-echo")).toEqual(["hello"]);
      expect(trailer.get("x-echo-trailer")).toEqual(["hello"]);
      const err = await grpcJsUnary(client, getUser, { id: "nobody" }).catch((e: grpc.ServiceError) => e);
      expect(err).toMatchObject({ code: grpc.status.NOT_FOUND, details: "user nobody not found" });
    } finally {
      client.close();
    }
  });

  test("carries messages larger than the HTTP/2 flow-control window both ways", async () => {
    const email = "x".repeat(600_000); // > 64 KiB window, < 1 MiB readMaxBytes
    const h2c = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    const h1 = createClient(UserService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    expect((await h2c.getUserByEmail({ email })).email).toHaveLength(email.length);
    expect((await h1.getUserByEmail({ email })).email).toHaveLength(email.length);
    const client = grpcJsClient(server.url);
    try {
      const byEmail = grpcJsMethod("user/v1/user.proto", "user.v1.UserService", "GetUserByEmail");
      const { response } = await grpcJsUnary(client, byEmail, { email });
      expect(response.email).toBe(email);
    } finally {
      client.close();
    }
  });

  test("serves many concurrent calls on one h2c connection and over HTTP/1.1", async () => {
    const h2c = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    const h1 = createClient(UserService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const calls = [...Array(200)].map((_, i) => (i % 4 ? h2c : h1).getUser({ id: TEST_USER.id }));
    expect((await Promise.all(calls)).every((u) => u.id === TEST_USER.id)).toBe(true);
  });

  test("survives clients that send garbage, half a preface, or nothing", async () => {
    for (const bytes of ["GARBAGE\r\n\r\n", "PRI * HTTP/2.0\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nxxxxxxxxxxxx", ""]) {
      const socket = net.connect(server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.on("error", () => {});
      if (bytes) socket.write(bytes);
      await Bun.sleep(20);
      socket.destroy();
    }
    const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    expect((await client.getUser({ id: TEST_USER.id })).id).toBe(TEST_USER.id);
  });
});

describe("limits", () => {
  test("a request over readMaxBytes fails with ResourceExhausted", async () => {
    const server = await startTestServer({ readMaxBytes: 1024 });
    try {
      const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
      const err = await client.getUser({ id: "x".repeat(2000) }).catch((e: unknown) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.ResourceExhausted });
      expect((await client.getUser({ id: TEST_USER.id })).id).toBe(TEST_USER.id);
    } finally {
      await server.close();
    }
  });

  test("maxTimeoutMs caps unary calls that set no deadline or a longer one", async () => {
    const server = await startTestServer({ maxTimeoutMs: 200 });
    const client = grpcJsClient(server.url);
    const listUsers = grpcJsMethod("user/v1/user.proto", "user.v1.UserService", "ListUsers");
    try {
      for (const deadlineMs of [undefined, 60_000]) {
        const started = Date.now();
        const err = await grpcJsUnary(client, listUsers, { pageSize: 2000 }, { deadlineMs }).catch((e: grpc.ServiceError) => e);
        expect(err).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
        expect(Date.now() - started).toBeLessThan(1500);
      }
    } finally {
      client.close();
      await server.close();
    }
  });

  test("a port already in use is a PortInUseError naming the port", async () => {
    const server = await startTestServer();
    try {
      const second = startTestServer({ port: server.port });
      expect(second).rejects.toBeInstanceOf(PortInUseError);
      expect(second).rejects.toThrow(`port ${server.port} on 127.0.0.1 is already in use`);
    } finally {
      await server.close();
    }
  });
});

describe("close", () => {
  test("lets a slow in-flight call finish and reports NOT_SERVING", async () => {
    const server = await startTestServer();
    const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    const before = slowCalls.started;
    const slow = client.listUsers({ pageSize: 400 });
    while (slowCalls.started === before) await Bun.sleep(5);
    const started = Date.now();
    const closed = server.close();
    expect(server.health.get("")).toBe(ServingStatus.NOT_SERVING);
    expect(server.health.get("user.v1.UserService")).toBe(ServingStatus.NOT_SERVING);
    expect((await slow).users).toHaveLength(1);
    await closed;
    expect(Date.now() - started).toBeGreaterThan(250);
    const refused = await fetch(`${server.url}/user.v1.UserService/GetUser`, { method: "POST" }).catch(() => "refused");
    expect(refused).toBe("refused");
  });

  test("does not wait for calls their clients cancelled", async () => {
    const server = await startTestServer();
    const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    const before = slowCalls.started;
    const cancelled = client.listUsers({ pageSize: 3000 }, { signal: AbortSignal.timeout(100) }).catch(() => "cancelled");
    while (slowCalls.started === before) await Bun.sleep(5);
    expect(await cancelled).toBe("cancelled");
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("closes idle HTTP/1.1 keep-alive and h2c connections at once", async () => {
    const server = await startTestServer();
    await createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" })).getUser({ id: TEST_USER.id });
    await fetch(`${server.url}/user.v1.UserService/GetUser`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: TEST_USER.id }),
    });
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("cancels calls still running at shutdownTimeoutMs", async () => {
    const server = await startTestServer({ shutdownTimeoutMs: 100 });
    const client = createClient(UserService, createRpcTransport(server.url, { protocol: "grpc" }));
    const before = slowCalls.started;
    const slow = client.listUsers({ pageSize: 5000 }).catch((e: unknown) => ConnectError.from(e));
    while (slowCalls.started === before) await Bun.sleep(5);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await slow).toMatchObject({ code: Code.Unavailable });
  });
});
