// Issue #15 end to end: the split binaries on PostgreSQL and Redis export their spans to an OTLP
// receiver this test runs on loopback — the gateway as OTLP/HTTP JSON, the user service as the
// default protobuf — and one GET /users/me (cache cold, so it crosses the hop) is one trace: the
// client's traceparent continued, the gateway's and the user service's spans, Redis and Prisma as
// children, parent links intact across the hop; every log line of the request names the trace.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import {
  MAIL_ENV,
  baseEnv,
  CREDENTIALS,
  cleanup,
  dataDir,
  freePorts,
  JWT_SECRET,
  PASSWORD,
  type Running,
  run,
  start,
  uniqueEmail,
} from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import type { Session } from "../stack.ts";

setDefaultTimeout(30_000);

const missing = !testDatabaseUrl() || !testRedisUrl();
type Export = { contentType: string; body: Uint8Array };
type JsonSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string };

const exports: Export[] = [];
let receiver: ReturnType<typeof Bun.serve> | undefined;
let testDb: TestDatabase | undefined;
const procs: Record<string, Running> = {};
let gateway = "";

afterAll(async () => {
  receiver?.stop(true);
  await cleanup();
  await testDb?.drop();
});

describe.skipIf(missing)("traces across the split binaries", () => {
  beforeAll(async () => {
    receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        exports.push({ contentType: request.headers.get("content-type") ?? "", body: new Uint8Array(await request.arrayBuffer()) });
        const json = request.headers.get("content-type")?.includes("json");
        return new Response(json ? "{}" : new Uint8Array(), {
          headers: { "content-type": json ? "application/json" : "application/x-protobuf" },
        });
      },
    });
    testDb = await createTestDatabase("e2e_tracing");
    const backends = { NODE_ENV: "production", DATABASE_URL: testDb.url!, REDIS_URL: testRedisUrl()! };
    const [gatewayPort, authPort, userPort, authInternal, userInternal] = freePorts(5) as [number, number, number, number, number];
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`, OTEL_BSP_SCHEDULE_DELAY: "100", LOG_LEVEL: "debug" };
    const { GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN } = CREDENTIALS;
    const migrated = await run(["services/user/main.ts", "migrate", "up"], { ...baseEnv(dataDir("trace-migrate")), ...backends });
    expect(migrated.code).toBe(0);
    const ready = /listening on http:\/\/\S+/;
    procs.user = await start(
      ["services/user/main.ts", "serve", "--port", `${userPort}`],
      {
        ...baseEnv(dataDir("trace-user")),
        ...backends,
        ...otel,
        GATEWAY_TOKEN,
        AUTH_SERVICE_TOKEN,
        OPERATOR_TOKEN,
        USER_SERVICE_INTERNAL_PORT: `${userInternal}`,
      },
      ready,
    );
    procs.auth = await start(
      ["services/auth/main.ts", "serve", "--port", `${authPort}`],
      {
        ...baseEnv(dataDir("trace-auth")),
        NODE_ENV: "production",
        REDIS_URL: backends.REDIS_URL,
        ...otel,
        JWT_SECRET,
        GATEWAY_TOKEN,
        AUTH_SERVICE_TOKEN,
        OPERATOR_TOKEN,
        USER_SERVICE_URL: `http://127.0.0.1:${userInternal}`,
        AUTH_SERVICE_INTERNAL_PORT: `${authInternal}`,
        ...MAIL_ENV,
      },
      ready,
    );
    procs.gateway = await start(
      ["gateway/main.ts", "serve", "--port", `${gatewayPort}`],
      {
        ...baseEnv(dataDir("trace-gateway")),
        NODE_ENV: "production",
        REDIS_URL: backends.REDIS_URL,
        ...otel,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        JWT_SECRET,
        GATEWAY_TOKEN,
        AUTH_SERVICE_URL: `http://127.0.0.1:${authInternal}`,
        USER_SERVICE_URL: `http://127.0.0.1:${userInternal}`,
      },
      /docs: \S+/,
    );
    gateway = `http://127.0.0.1:${gatewayPort}`;
  }, 60_000);

  test("one GET /users/me is one trace: the client's, through the gateway, the hop, the user service, Redis and Prisma", async () => {
    expect(procs.gateway!.stdout()).toContain("tracing: OTLP http/json");
    const email = uniqueEmail("trace");
    const registered = await fetch(`${gateway}/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD, name: "Traced" }),
    });
    expect(registered.status).toBe(201);
    const { access_token } = (await registered.json()) as Session;

    const traceId = crypto.randomUUID().replaceAll("-", "");
    const clientSpan = traceId.slice(0, 16);
    const requestId = `trace-test-${traceId.slice(0, 8)}`;
    const me = await fetch(`${gateway}/users/me`, {
      headers: { authorization: `Bearer ${access_token}`, traceparent: `00-${traceId}-${clientSpan}-01`, "x-request-id": requestId },
    });
    expect(me.status).toBe(200);
    // The answer names the gateway's span in the client's trace.
    const answered = me.headers.get("traceparent") ?? "";
    expect(answered).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const gatewaySpanId = answered.split("-")[2]!;

    // The gateway's spans (JSON): its server span is the client span's child, and its RPC client span its child.
    const gatewaySpans = await waitFor(() => {
      // The spans arrive in batches as they end (the request's own last): wait for all three kinds.
      const spans = jsonSpans().filter((s) => s.traceId === traceId);
      const complete =
        spans.some((s) => s.name === "user.v1.UserService/GetUser") &&
        spans.some((s) => s.spanId === gatewaySpanId) &&
        spans.some((s) => s.name.startsWith("redis "));
      return complete ? spans : undefined;
    });
    const server = gatewaySpans.find((s) => s.spanId === gatewaySpanId);
    expect(server).toMatchObject({ name: "GET /users/me", parentSpanId: clientSpan });
    const rpcClient = gatewaySpans.find((s) => s.name === "user.v1.UserService/GetUser")!;
    expect(rpcClient.parentSpanId).toBe(gatewaySpanId);
    expect(gatewaySpans.some((s) => s.name.startsWith("redis ") && s.parentSpanId === gatewaySpanId)).toBe(true);

    // The user service's spans (protobuf, in as many batches as the SDK sent): the same trace id, its
    // server span the child of the gateway's client span (a parent link across the hop).
    const traceBytes = Buffer.from(traceId, "hex");
    const expected = [
      Buffer.from(rpcClient.spanId, "hex"),
      ...["user.v1.UserService/GetUser", "redis get", "prisma:client:operation"].map((n) => Buffer.from(n)),
    ];
    const userSpans = () =>
      Buffer.concat(
        exports
          .filter((e) => e.contentType.includes("protobuf") && Buffer.from(e.body).includes(traceBytes))
          .map((e) => Buffer.from(e.body)),
      );
    const body = await waitFor(() => {
      const all = userSpans();
      return expected.every((part) => all.includes(part)) ? all : undefined;
    }).catch(() => userSpans());
    for (const part of expected) expect(`${part.toString("hex")}: ${body.includes(part)}`).toBe(`${part.toString("hex")}: true`);
    expect(body.includes("user-service")).toBe(true);

    // Every log line of the request, in both processes, names the trace and the request.
    const linesOf = (proc: Running) =>
      proc
        .stderr()
        .split("\n")
        .filter((line) => line.includes(requestId))
        .map((line) => JSON.parse(line) as { trace_id?: string; request_id?: string });
    for (const [name, proc] of [
      ["gateway", procs.gateway!],
      ["user", procs.user!],
    ] as const) {
      const lines = linesOf(proc);
      expect(`${name}: ${lines.length > 0}`).toBe(`${name}: true`);
      for (const line of lines) expect(`${name}: ${line.trace_id}`).toBe(`${name}: ${traceId}`);
    }
  });
});

function jsonSpans(): JsonSpan[] {
  return exports
    .filter((e) => e.contentType.includes("json"))
    .flatMap((e) => {
      const body = JSON.parse(new TextDecoder().decode(e.body)) as {
        resourceSpans: { scopeSpans: { spans: JsonSpan[] }[] }[];
      };
      return body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    });
}

async function waitFor<T>(find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`not exported within ${timeoutMs} ms (${exports.length} exports seen)`);
    await Bun.sleep(50);
  }
}
