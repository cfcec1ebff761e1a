import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { createRpcTransport } from "./client.ts";
import { ServingStatus } from "./health.ts";
import type { RpcServer } from "./server.ts";
import { grpcJsClient, grpcJsMethod, grpcJsStream, grpcJsUnary } from "../../test/grpc-js.ts";
import { startTestServer } from "../../test/fixture-user-service.ts";

const HEALTH_PROTO = "grpc/health/v1/health.proto";
const check = grpcJsMethod(HEALTH_PROTO, "grpc.health.v1.Health", "Check");
const watch = grpcJsMethod(HEALTH_PROTO, "grpc.health.v1.Health", "Watch");

describe("grpc.health.v1 over grpc-js", () => {
  let server: RpcServer;
  let client: grpc.Client;
  beforeEach(async () => {
    server = await startTestServer();
    client = grpcJsClient(server.url);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  test("Check answers SERVING for the server and each registered service", async () => {
    for (const service of ["", "user.v1.UserService"]) {
      const { response } = await grpcJsUnary(client, check, { service });
      expect(response).toEqual({ status: "SERVING" });
    }
  });

  test("Check follows set() and answers NOT_FOUND for an unknown service", async () => {
    server.health.set("user.v1.UserService", ServingStatus.NOT_SERVING);
    expect((await grpcJsUnary(client, check, { service: "user.v1.UserService" })).response).toEqual({
      status: "NOT_SERVING",
    });
    const err = await grpcJsUnary(client, check, { service: "nope.v1.Nope" }).catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  test("Watch sends the current status, every change, and ends cleanly on close", async () => {
    const stream = grpcJsStream(client, watch, { service: "user.v1.UserService" });
    const seen: unknown[] = [];
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
    stream.on("data", (msg: { status: string }) => seen.push(msg.status));
    stream.on("error", () => {});
    while (seen.length < 1) await Bun.sleep(5);
    server.health.set("user.v1.UserService", ServingStatus.NOT_SERVING);
    while (seen.length < 2) await Bun.sleep(5);
    server.health.set("user.v1.UserService", ServingStatus.SERVING);
    while (seen.length < 3) await Bun.sleep(5);
    await server.close();
    expect((await ended).code).toBe(grpc.status.OK);
    expect(seen).toEqual(["SERVING", "NOT_SERVING", "SERVING", "NOT_SERVING"]);
  });

  test("Watch of an unknown service sends SERVICE_UNKNOWN and stays open", async () => {
    const stream = grpcJsStream(client, watch, { service: "later.v1.Later" });
    const seen: unknown[] = [];
    stream.on("data", (msg: { status: string }) => seen.push(msg.status));
    stream.on("error", () => {});
    while (seen.length < 1) await Bun.sleep(5);
    server.health.set("later.v1.Later", ServingStatus.SERVING);
    while (seen.length < 2) await Bun.sleep(5);
    expect(seen).toEqual(["SERVICE_UNKNOWN", "SERVING"]);
    stream.cancel();
  });
});

test("List returns every service with its status", async () => {
  const server = await startTestServer();
  try {
    server.health.set("user.v1.UserService", ServingStatus.NOT_SERVING);
    const health = createClient(Health, createRpcTransport(server.url, { protocol: "grpc" }));
    const { statuses } = await health.list({});
    expect(Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": ServingStatus.SERVING,
      "user.v1.UserService": ServingStatus.NOT_SERVING,
    });
  } finally {
    await server.close();
  }
});
