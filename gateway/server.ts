// serveGateway runs the app on Bun.serve and drains it on close: /health turns 503, no new
// connections are accepted, in-flight requests finish (up to the shutdown timeout).
import type { GatewayDeps } from "./deps.ts";
import { createApp } from "./app.ts";
import { PortInUseError } from "../lib/listen.ts";

export function serveGateway(
  deps: Omit<GatewayDeps, "isShuttingDown">,
  options: { host: string; port: number; shutdownTimeoutSeconds: number },
) {
  let shuttingDown = false;
  const app = createApp({ ...deps, isShuttingDown: () => shuttingDown });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.host,
      port: options.port,
      fetch: app.fetch,
      // A hard ceiling far above the per-route limits, which answer 413 precisely.
      maxRequestBodySize: 2 * 1024 * 1024,
      idleTimeout: 30,
    });
  } catch (error) {
    if ((error as { code?: string }).code === "EADDRINUSE") throw new PortInUseError(options.host, options.port, { cause: error });
    throw error;
  }
  return {
    app,
    url: `http://${options.host === "0.0.0.0" ? "127.0.0.1" : options.host}:${server.port}`,
    port: server.port ?? options.port,
    async close() {
      shuttingDown = true;
      const forced = setTimeout(() => void server.stop(true), options.shutdownTimeoutSeconds * 1000);
      await server.stop(false);
      clearTimeout(forced);
    },
  };
}
