import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { freePorts } from "../../test/binaries.ts";
import { startTestServer, TEST_USER } from "../../test/fixture-user-service.ts";
import { balancedTransport } from "./balance.ts";
import { createRpcTransport } from "./client.ts";
import type { RpcServer } from "./server.ts";

// A stand-in replica: records the calls it gets, answers or fails as told.
function stubReplica(url: string, calls: string[], fail?: (method: string) => ConnectError | undefined): Transport {
  return {
    async unary(method) {
      calls.push(`${new URL(url).host} ${method.name}`);
      const error = fail?.(method.name);
      if (error) throw error;
      return { stream: false, service: method.parent, method, header: new Headers(), trailer: new Headers(), message: TEST_USER } as never;
    },
    stream: () => Promise.reject(new Error("no streams here")),
  };
}
const refused = () =>
  new ConnectError(
    "connection refused",
    Code.Unavailable,
    undefined,
    undefined,
    Object.assign(new Error("refused"), { code: "ConnectionRefused" }),
  );
const dropped = () =>
  new ConnectError(
    "connection reset mid-call",
    Code.Unavailable,
    undefined,
    undefined,
    Object.assign(new Error("reset"), { code: "ECONNRESET" }),
  );

describe("balancedTransport over stand-in replicas", () => {
  test("calls go round robin over the listed replicas", async () => {
    const calls: string[] = [];
    const users = createClient(
      UserService,
      balancedTransport("http://127.0.0.11:1,http://127.0.0.12:1", (url) => stubReplica(url, calls)),
    );
    for (let i = 0; i < 4; i++) await users.getUser({ id: TEST_USER.id });
    expect(calls.map((c) => c.split(" ")[0]).sort()).toEqual(["127.0.0.11:1", "127.0.0.11:1", "127.0.0.12:1", "127.0.0.12:1"]);
  });

  test("a read that fails Unavailable is sent once more to another replica; the failed one is skipped for a while", async () => {
    const calls: string[] = [];
    const transport = balancedTransport("http://127.0.0.11:1,http://127.0.0.12:1", (url) =>
      stubReplica(url, calls, () => (url.includes("127.0.0.11") ? dropped() : undefined)),
    );
    const users = createClient(UserService, transport);
    for (let i = 0; i < 4; i++) expect((await users.getUser({ id: TEST_USER.id })).id).toBe(TEST_USER.id);
    // The broken replica was tried once at most, then quarantined.
    expect(calls.filter((c) => c.startsWith("127.0.0.11")).length).toBe(1);
  });

  test("a write is retried only when its connection was refused (nothing sent), never after a reset", async () => {
    for (const [failure, retried] of [
      [refused, true],
      [dropped, false],
    ] as const) {
      const calls: string[] = [];
      let first = true;
      const transport = balancedTransport("http://127.0.0.11:1,http://127.0.0.12:1", (url) =>
        stubReplica(url, calls, () => {
          if (!first) return undefined;
          first = false;
          return failure();
        }),
      );
      const result = await createClient(UserService, transport)
        .createUser({ email: "a@example.com", passwordHash: "x", name: "A" })
        .then(
          () => "ok",
          (e) => ConnectError.from(e).code,
        );
      expect({ failure: failure.name, result, calls: calls.length }).toEqual({
        failure: failure.name,
        result: retried ? "ok" : Code.Unavailable,
        calls: retried ? 2 : 1,
      });
    }
  });

  test("a hostname is resolved to every replica behind it and re-resolved as replicas come and go", async () => {
    const calls: string[] = [];
    let answer = ["127.0.0.11", "127.0.0.12"];
    const transport = balancedTransport("http://replicas.example:7", (url) => stubReplica(url, calls), {
      resolve: async () => answer,
      refreshMs: 0,
    });
    const users = createClient(UserService, transport);
    for (let i = 0; i < 4; i++) await users.getUser({ id: TEST_USER.id });
    expect(new Set(calls.map((c) => c.split(" ")[0]))).toEqual(new Set(["127.0.0.11:7", "127.0.0.12:7"]));
    answer = ["127.0.0.13"];
    // A call answers from the known list while a new lookup runs (one may already be under way).
    for (let i = 0; i < 2; i++) {
      await Bun.sleep(5);
      await users.getUser({ id: TEST_USER.id });
    }
    await Bun.sleep(5);
    calls.length = 0;
    for (let i = 0; i < 3; i++) await users.getUser({ id: TEST_USER.id });
    expect(calls.map((c) => c.split(" ")[0])).toEqual(["127.0.0.13:7", "127.0.0.13:7", "127.0.0.13:7"]);
  });
});

describe("createRpcTransport over real replicas", () => {
  let live: RpcServer;
  beforeAll(async () => {
    live = await startTestServer({ internalPort: 0 });
  });
  afterAll(() => live.close());

  test("with one replica down (nothing listening), every read still answers", async () => {
    const [closed] = freePorts(1) as [number];
    const users = createClient(UserService, createRpcTransport(`http://127.0.0.1:${closed},${live.internalUrl}`));
    for (let i = 0; i < 6; i++) expect((await users.getUser({ id: TEST_USER.id })).id).toBe(TEST_USER.id);
  });
});
