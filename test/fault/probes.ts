// What the fault suite observes from outside a binary: how long something took, whether a port
// still accepts connections, and the gateway's /health.
import { connect } from "node:net";
import { call } from "../binaries.ts";

/** timed runs fn and tells how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** connectionRefused tells whether a new TCP connection to url's port is refused. */
export function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** HealthJson is the gateway's /health body: the reference's shape. */
export type HealthJson = { status: "healthy" | "degraded"; services: Record<string, { status: "healthy" | "unhealthy" }> };

/** health reads a gateway's /health as status and body. */
export async function health(base: string): Promise<{ status: number; body: HealthJson }> {
  const res = await call(base, "/health");
  return { status: res.status, body: (await res.json()) as HealthJson };
}
