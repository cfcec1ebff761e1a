import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import type { Logger } from "../../lib/log.ts";
import { ServingStatus } from "../../lib/rpc/health.ts";
import { bodyOf, startTestStack, unreachableStore, type TestStack } from "../../test/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

type Health = { status: string; services: Record<string, { status: string }> };

/** recordingLog keeps what is logged at warn and above. */
function recordingLog() {
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const keep = (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields });
  const log: Logger = { debug: () => {}, info: () => {}, warn: keep, error: keep, child: () => log, enabled: () => true };
  return { log, lines };
}

describe("get /health", () => {
  test("answers 200 with the reference's shape and the services' gRPC health", async () => {
    const res = await stack.fetch("/health");
    expect([res.status, res.headers.get("content-type"), res.headers.get("cache-control")]).toEqual([200, "application/json", "no-store"]);
    expect(await res.json()).toEqual({
      status: "healthy",
      services: { redis: { status: "healthy" }, auth: { status: "healthy" }, user: { status: "healthy" } },
    });
  });

  test("answers 503 degraded with only the statuses when the store is unreachable, within its deadline", async () => {
    const store = unreachableStore();
    try {
      const gateway = await stack.gateway({ store });
      const started = performance.now();
      for (const path of ["/health", "/health/ready"]) {
        const res = await gateway.fetch(path);
        expect(res.status).toBe(503);
        const text = await res.text();
        expect(JSON.parse(text)).toEqual({
          status: "degraded",
          services: { redis: { status: "unhealthy" }, auth: { status: "healthy" }, user: { status: "healthy" } },
        });
        expect(text).not.toContain("127.0.0.1");
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
      expect(body.services.auth).toEqual({ status: "unhealthy" });
      expect(body.services.user).toEqual({ status: "healthy" });
    } finally {
      stack.health.set(AuthService.typeName, ServingStatus.SERVING);
    }
    expect((await stack.fetch("/health")).status).toBe(200);
  });

  test("tells callers only that a failing dependency is unhealthy, and logs why", async () => {
    const secret = "connect ECONNREFUSED 10.20.30.40:5432 (postgresql://app:hunter2@db.internal:5432/users)";
    const { log, lines } = recordingLog();
    const gateway = await stack.gateway({
      log,
      healthChecks: {
        ...stack.deps.healthChecks,
        user: async () => {
          throw new Error(secret);
        },
      },
    });
    // stack.close() closes this gateway too.
    for (const path of ["/health", "/health/ready"]) {
      const res = await gateway.fetch(path);
      const text = await res.text();
      const body = JSON.parse(text) as Health;
      expect([path, res.status, body.status, body.services.user]).toEqual([path, 503, "degraded", { status: "unhealthy" }]);
      expect(body.services.user).not.toHaveProperty("error");
      for (const leak of ["error", "ECONNREFUSED", "10.20.30.40", "hunter2", "db.internal", "postgresql://"])
        expect(text).not.toContain(leak);
    }
    const failures = lines.filter((line) => line.msg === "health check failed");
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure.fields).toEqual({ dependency: "user", error: "Error", error_message: secret });
  });

  test("logs nothing while every dependency is healthy", async () => {
    const { log, lines } = recordingLog();
    const gateway = await stack.gateway({ log });
    expect((await gateway.fetch("/health")).status).toBe(200);
    expect(lines).toEqual([]);
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
