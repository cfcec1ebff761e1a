// probeDependency keeps a service's health in step with a dependency it can't work without: NOT_SERVING
// while the dependency doesn't answer, so probes and load balancers route around the instance.
import type { Logger } from "../log.ts";
import { metrics } from "../metrics/metrics.ts";
import { ServingStatus, type HealthStatus } from "./health.ts";

export type DependencyProbe = {
  health: HealthStatus;
  /** service is the health name to flip (the overall "" status follows it). */
  service: string;
  /** dependency names what is checked, for the log and the dependency_up gauge ("database", "redis"). */
  dependency: string;
  check: () => Promise<void>;
  log: Logger;
  intervalMs?: number;
};

/** probeDependency checks every intervalMs (default 5 s) and returns a function that stops it. */
export function probeDependency({ health, service, dependency, check, log, intervalMs = 5000 }: DependencyProbe): () => void {
  let stopped = false;
  const timer = setInterval(async () => {
    const up = await check().then(
      () => true,
      () => false,
    );
    if (stopped) return;
    metrics.dependencyUp.set({ dependency }, up ? 1 : 0);
    const status = up ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (health.get(service) === status) return;
    log.warn(up ? `${dependency} reachable again` : `${dependency} unreachable`, { service });
    health.set(service, status);
    health.set("", status);
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
