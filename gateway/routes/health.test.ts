import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { ServingStatus } from "../../lib/rpc/health.ts";
import { bodyOf, startTestStack, unreachableStore, type TestStack } from "../../test/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

type Health = { status: string; services: Record<string, { status: string; error?: string }> };

describe("get /health", () => {
  test("answers 200 with the reference's shape and the services' gRPC health", async () => {
    const res = await stack.fetch("/health");
    expect([res.status, res.headers.get("content-type"), res.headers.get("cache-control")]).toEqual([200, "application/json", "no-store"]);
    expect(await res.json()).toEqual({
      status: "healthy",
      services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } },
    });
  });

  test("answers 503 degraded with the error when the store is unreachable, within its deadline", async () => {
    const store = unreachableStore();
    try {
      const gateway = await stack.gateway({ store });
      const started = performance.now();
      for (const path of ["/health", "/health/ready"]) {
        const res = await gateway.fetch(path);
        expect(res.status).toBe(503);
        const body = await bodyOf<Health>(res);
        expect(body).toEqual({
          status: "degraded",
          services: { redis: { status: "unhealthy", error: expect.any(String) }, auth: { status: "healthy" }, user: { status: "healthy" } },
        });
        expect(body.services.redis?.error).not.toBe("");
      }
      expect(performance.now() - started).toBeLessThan(6000);
      expect((await gateway.fetch("/health/live")).status).toBe(200);
    } finally {
      await store.close();
    }
  });

  test("answers 503 while a backing service is not serving, and 200 again once it is", async () => {
    stack.health.set(AuthService.typeName, ServingStatus.NOT_SERVING);
    try {
      const res = await stack.fetch("/health");
      expect(res.status).toBe(503);
      const body = await bodyOf<Health>(res);
      expect(body.status).toBe("degraded");
      expect(body.services.auth).toEqual({ status: "unhealthy", error: `${AuthService.typeName} is NOT_SERVING` });
      expect(body.services.user).toEqual({ status: "healthy" });
    } finally {
      stack.health.set(AuthService.typeName, ServingStatus.SERVING);
    }
    expect((await stack.fetch("/health")).status).toBe(200);
  });
});

describe("get /health/live and /health/ready", () => {
  test("answer alive, and the same verdict as /health", async () => {
    expect(await (await stack.fetch("/health/live")).json()).toEqual({ status: "alive" });
    const ready = await stack.fetch("/health/ready");
    expect(ready.status).toBe(200);
    expect((await bodyOf<Health>(ready)).status).toBe("healthy");
  });
});
