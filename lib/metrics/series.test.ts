import { describe, expect, test } from "bun:test";
import client from "prom-client";
import { counterSeries, histogramSeries } from "./series.ts";

// Two registries fed the same values, one through prom-client's children, one through these series.
function pair() {
  const make = () => {
    const registry = new client.Registry();
    const counter = new client.Counter({ name: "c_total", help: "c", labelNames: ["b", "a"] as const, registers: [registry] });
    const histogram = new client.Histogram({
      name: "h_seconds",
      help: "h",
      labelNames: ["b", "a"] as const,
      buckets: [0.001, 0.01, 0.1, 1],
      registers: [registry],
    });
    return { registry, counter, histogram };
  };
  return { viaPromClient: make(), viaSeries: make() };
}

const VALUES = [0.0005, 0.001, 0.002, 0.05, 0.5, 1, 7, 0];

describe("metric series", () => {
  test("expose exactly what prom-client's own children expose, label order and buckets included", async () => {
    const { viaPromClient, viaSeries } = pair();
    for (const labels of [
      ["x", "y"],
      ["x", "z"],
    ] as const) {
      const counter = counterSeries(viaSeries.counter, ...labels);
      const histogram = histogramSeries(viaSeries.histogram, ...labels);
      for (const value of VALUES) {
        viaPromClient.counter.labels(...labels).inc();
        viaPromClient.counter.labels(...labels).inc(2.5);
        viaPromClient.histogram.labels(...labels).observe(value);
        counter.inc();
        counter.inc(2.5);
        histogram.observe(value);
      }
    }
    const text = await viaSeries.registry.metrics();
    expect(text).toBe(await viaPromClient.registry.metrics());
    expect(text).toContain('c_total{b="x",a="y"} 28');
    expect(text).toContain('h_seconds_bucket{le="0.001",b="x",a="z"} 3');
  });

  test("a series that was never used exposes nothing, like a child that was never used", async () => {
    const { viaSeries } = pair();
    counterSeries(viaSeries.counter, "x", "y");
    histogramSeries(viaSeries.histogram, "x", "y");
    expect(await viaSeries.registry.metrics()).not.toContain('a="y"');
  });

  test("after the metric is reset, a series counts again from zero", async () => {
    const { viaSeries } = pair();
    const counter = counterSeries(viaSeries.counter, "x", "y");
    const histogram = histogramSeries(viaSeries.histogram, "x", "y");
    counter.inc(5);
    counter.inc(5);
    histogram.observe(0.5);
    viaSeries.counter.reset();
    viaSeries.histogram.reset();
    counter.inc();
    counter.inc();
    histogram.observe(0.002);
    const text = await viaSeries.registry.metrics();
    expect(text).toContain('c_total{b="x",a="y"} 2');
    expect(text).toContain('h_seconds_count{b="x",a="y"} 1');
  });

  test("refuse what prom-client refuses: a negative or non-finite increment, a non-finite observation", () => {
    const { viaSeries } = pair();
    const counter = counterSeries(viaSeries.counter, "x", "y");
    const histogram = histogramSeries(viaSeries.histogram, "x", "y");
    counter.inc();
    histogram.observe(1);
    expect(() => counter.inc(-1)).toThrow();
    expect(() => counter.inc(Number.NaN)).toThrow();
    expect(() => counter.inc(Number.POSITIVE_INFINITY)).toThrow();
    expect(() => histogram.observe(Number.NaN)).toThrow();
  });
});
