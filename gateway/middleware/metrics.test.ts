import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bearer, type Session, startTestStack, type TestStack } from "../../test/stack.ts";

let stack: TestStack;
let session: Session;
beforeAll(async () => {
  stack = await startTestStack();
  session = await stack.register();
});
afterAll(() => stack.close());

const scrape = async (gateway: Pick<TestStack, "fetch"> = stack, headers: Record<string, string> = {}) => {
  const res = await gateway.fetch("/metrics", { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return res.text();
};
// Every series (name and labels) with its value.
const seriesOf = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => {
        const at = line.lastIndexOf(" ");
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
const value = (text: string, series: string) => seriesOf(text).get(series) ?? 0;

describe("GET /metrics", () => {
  test("counts each request by route template and status: counters move by exactly the requests made", async () => {
    const meSeries = 'http_requests_total{method="GET",route="/users/me",status="200"}';
    const byIdSeries = 'http_requests_total{method="GET",route="/users/:id",status="200"}';
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await stack.fetch("/users/me", { headers: bearer(session) })).status).toBe(200);
    expect((await stack.fetch(`/users/${session.user.id}`, { headers: bearer(session) })).status).toBe(200);
    const after = await scrape();
    expect(value(after, meSeries) - value(before, meSeries)).toBe(3);
    expect(value(after, byIdSeries) - value(before, byIdSeries)).toBe(1);
    expect(after).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/users/me",status="200"}');
    expect(after).toMatch(/^rate_limit_decisions_total\{policy="users",decision="allowed"\} \d+$/m);
    expect(after).toMatch(/^user_cache_requests_total\{result="(hit|miss)"\} \d+$/m);
    expect(after).toMatch(/^build_info\{version="[^"]+",commit="[^"]+"\} 1$/m);
    expect(after).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  test("random paths and ids add no series: labels come from route templates, never the raw path", async () => {
    const junk = () => crypto.randomUUID().replaceAll("-", "/");
    // One of each kind first, so that their (bounded) series exist.
    const kinds = [
      () => stack.fetch(`/${junk()}`),
      () => stack.fetch(`/users/${crypto.randomUUID()}`, { headers: bearer(session) }),
      () => stack.fetch(`/users/not-an-id-${crypto.randomUUID()}`, { headers: bearer(session) }),
      () => stack.fetch(`/swagger-ui/${crypto.randomUUID()}.js`),
      () => stack.fetch(`/auth/${crypto.randomUUID()}`, { method: "POST" }),
    ];
    for (const kind of kinds) await (await kind()).body?.cancel();
    const before = [...seriesOf(await scrape()).keys()].filter((series) => !series.startsWith("nodejs_") && !series.startsWith("process_"));
    for (let i = 0; i < 1000; i += kinds.length) {
      await Promise.all(kinds.map(async (kind) => (await kind()).body?.cancel()));
    }
    const after = [...seriesOf(await scrape()).keys()].filter((series) => !series.startsWith("nodejs_") && !series.startsWith("process_"));
    expect(after.filter((series) => !before.includes(series))).toEqual([]);
    expect(after.some((series) => series.includes('route="unmatched"'))).toBe(true);
  });

  test("is not rate limited and not in the OpenAPI document", async () => {
    const gateway = await stack.gateway({
      limits: { auth: { name: "auth", max: 1, windowSeconds: 60 }, users: { name: "users", max: 1, windowSeconds: 60 } },
    });
    for (let i = 0; i < 5; i++) await scrape(gateway);
    const document = (await (await stack.fetch("/api-docs/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).not.toContain("/metrics");
  });

  test("with METRICS_TOKEN set, answers only to that bearer token", async () => {
    const gateway = await stack.gateway({ metricsToken: "scrape-token-0123456789" });
    await expectProblemless(await gateway.fetch("/metrics"), 401);
    await expectProblemless(await gateway.fetch("/metrics", { headers: { authorization: "Bearer wrong-token-0123456789" } }), 401);
    expect(await scrape(gateway, { authorization: "Bearer scrape-token-0123456789" })).toContain("http_requests_total");
  });

  test("the text passes promtool check metrics", async () => {
    if (!Bun.which("promtool")) return console.log("[metrics] promtool absent: check skipped (CI installs Debian's prometheus)");
    const check = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(await scrape()) });
    expect({ code: check.exitCode, problems: check.stderr.toString() + check.stdout.toString() }).toEqual({ code: 0, problems: "" });
  });
});

async function expectProblemless(res: Response, status: number) {
  expect(res.status).toBe(status);
  await res.body?.cancel();
}
