#!/usr/bin/env bun
// The containers' health probe; exits 0 when healthy, 1 otherwise (Docker HEALTHCHECK semantics).
//   bun deploy/healthcheck.ts http://127.0.0.1:3000/health   the gateway: any 2xx
//   bun deploy/healthcheck.ts grpc://127.0.0.1:50051          a service: grpc.health.v1 Check says SERVING
//   bun deploy/healthcheck.ts grpc://127.0.0.1:50052 grpc://127.0.0.1:50062   several: healthy when all are
//   (a service's port and its internal Connect listener, which answer the same health service)
// The gRPC check is sent as a Connect JSON call over HTTP/1.1, which the services accept on their gRPC
// port, so the image needs no curl or grpc_health_probe.
const TIMEOUT_MS = 3000;

/** probe tells whether the target answers healthy within the deadline, and why not if it doesn't. */
export async function probe(target: string): Promise<{ healthy: boolean; detail: string }> {
  const url = new URL(target);
  const signal = AbortSignal.timeout(TIMEOUT_MS);
  try {
    if (url.protocol === "grpc:") {
      const service = url.pathname.replace(/^\//, "");
      const response = await fetch(`http://${url.host}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ service }),
        signal,
      });
      const body = (await response.json().catch(() => ({}))) as { status?: string };
      return { healthy: response.ok && body.status === "SERVING", detail: `${response.status} ${body.status ?? ""}`.trim() };
    }
    const response = await fetch(url, { signal });
    await response.body?.cancel();
    return { healthy: response.ok, detail: String(response.status) };
  } catch (error) {
    return { healthy: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

if (import.meta.main) {
  const targets = process.argv.slice(2);
  if (targets.length === 0 || !targets.every((target) => /^(https?|grpc):\/\//.test(target))) {
    console.error("usage: healthcheck.ts http://host:port/path | grpc://host:port[/service] …");
    process.exit(1); // not 2: Docker reserves it
  }
  const results = await Promise.all(targets.map(probe));
  targets.forEach((target, i) => {
    console.log(`${results[i]!.healthy ? "healthy" : "unhealthy"}: ${target} (${results[i]!.detail})`);
  });
  process.exit(results.every((r) => r.healthy) ? 0 : 1);
}
