// HTTP RED metrics for every request the gateway answers, labelled by the route template that
// answered (`/users/:id`, never the raw path) — or `unmatched` when none did — and the status.
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { metrics, seriesOf } from "../../lib/metrics/metrics.ts";
import { counterSeries, histogramSeries } from "../../lib/metrics/series.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** httpMetrics records an answered request: counted by method, route template and status, and
 * timed from startedAt (performance.now()). The edge middleware calls it for every answer. */
export function httpMetrics(): (c: Context, startedAt: number) => void {
  const series = seriesOf((method, route, status) => ({
    count: counterSeries(metrics.httpRequests, method, route, status),
    duration: histogramSeries(metrics.httpDuration, method, route, status),
  }));
  return function httpMetrics(c, startedAt) {
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const s = series(method, routeOf(c), String(c.res.status));
    s.count.inc();
    s.duration.observe((performance.now() - startedAt) / 1000);
  };
}

/** routeOf is the route template of a request, for labels and span names. */
// The first route with a handler of its own that matched (middleware is mounted on wildcards): the
// one that answers, or would have had a middleware (auth, rate limit) not answered first.
// `/users/me` matches `/users/:id` too, but is registered, so matched, before it.
export function routeOf(c: Context): string {
  for (const route of matchedRoutes(c)) {
    if (route.method !== "ALL" && !route.path.endsWith("*")) return route.path;
  }
  return "unmatched";
}
