import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { ServingStatus } from "../lib/rpc/health.ts";
import type { RpcServer } from "../lib/rpc/server.ts";
import { startTestServer } from "../test/fixture-user-service.ts";
import { probe } from "./healthcheck.ts";

describe("healthcheck", () => {
  let rpc: RpcServer;
  let http: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    rpc = await startTestServer();
    http = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => new Response("{}", { status: new URL(req.url).pathname === "/health" ? 200 : 503 }),
    });
  });
  afterAll(async () => {
    await rpc.close();
    await http.stop(true);
  });

  test("an http target is healthy on 2xx and unhealthy otherwise", async () => {
    expect((await probe(`http://127.0.0.1:${http.port}/health`)).healthy).toBe(true);
    expect(await probe(`http://127.0.0.1:${http.port}/degraded`)).toEqual({ healthy: false, detail: "503" });
  });

  test("a grpc target asks grpc.health.v1 and needs SERVING", async () => {
    expect(await probe(`grpc://127.0.0.1:${rpc.port}`)).toEqual({ healthy: true, detail: "200 SERVING" });
    rpc.health.set(UserService.typeName, ServingStatus.NOT_SERVING);
    expect(await probe(`grpc://127.0.0.1:${rpc.port}/${UserService.typeName}`)).toEqual({ healthy: false, detail: "200 NOT_SERVING" });
    expect((await probe(`grpc://127.0.0.1:${rpc.port}/no.such.Service`)).healthy).toBe(false);
  });

  test("nothing listening is unhealthy, not an exception", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = closed.port;
    await closed.stop(true);
    expect((await probe(`grpc://127.0.0.1:${port}`)).healthy).toBe(false);
  });

  test("the command exits 0 when healthy and 1 when not", async () => {
    // Async spawn: the servers under test live in this process's event loop.
    const run = (target: string) =>
      Bun.spawn(["bun", `${import.meta.dir}/healthcheck.ts`, target], { stdout: "ignore", stderr: "ignore" }).exited;
    expect(await run(`http://127.0.0.1:${http.port}/health`)).toBe(0);
    expect(await run(`grpc://127.0.0.1:${rpc.port}`)).toBe(0);
    expect(await run(`http://127.0.0.1:${http.port}/nope`)).toBe(1);
    expect(await run("ftp://example")).toBe(1);
  });

  test("several targets are healthy only when every one is", async () => {
    const run = (...targets: string[]) =>
      Bun.spawn(["bun", `${import.meta.dir}/healthcheck.ts`, ...targets], { stdout: "ignore", stderr: "ignore" }).exited;
    expect(await run(`grpc://127.0.0.1:${rpc.port}`, `http://127.0.0.1:${http.port}/health`)).toBe(0);
    expect(await run(`grpc://127.0.0.1:${rpc.port}`, `http://127.0.0.1:${http.port}/nope`)).toBe(1);
  });
});
