// One series of a labelled prom-client metric, updated at the cost of an addition. prom-client 15
// builds a label object, validates it and re-hashes it into a string key on every inc/observe,
// even through a child from labels(): ≈ 5–8 % of the CPU of a GET /users/me and of each end of
// the internal hop (BENCHMARKS.md). These children find the series' stored entry once and update
// it in place; the registry reads the same entry, so exposition is unchanged. They rely on the
// layout of prom-client's hashMap, which is pinned with the package; series.test.ts checks it.
import type client from "prom-client";

type CounterEntry = { value: number };
type HistogramEntry = { sum: number; count: number; bucketValues: Record<string, number> };
type Internals<E> = { hashMap: Record<string, E>; sortedLabelNames: string[]; labelNames: string[]; upperBounds?: number[] };

export type CounterSeries = { inc(by?: number): void };
export type HistogramSeries = { observe(value: number): void };

// prom-client's key of a label set: `name:value,` for each label name in sorted order.
function keyOf(metric: Internals<unknown>, values: string[]): string {
  const byName = new Map(metric.labelNames.map((name, i) => [name, values[i]]));
  return metric.sortedLabelNames.map((name) => `${name}:${byName.get(name)},`).join("");
}

/** counterSeries is the series of counter with these label values (in labelNames order). */
export function counterSeries(counter: client.Counter<string>, ...values: string[]): CounterSeries {
  const metric = counter as unknown as Internals<CounterEntry>;
  const child = counter.labels(...values);
  const key = keyOf(metric, values);
  let entry: CounterEntry | undefined;
  return {
    inc(by = 1) {
      // The first inc (or one after a reset of the metric) goes through prom-client, which creates the entry.
      if (entry === undefined || metric.hashMap[key] !== entry) {
        child.inc(by);
        entry = metric.hashMap[key];
        return;
      }
      if (!(by >= 0) || !Number.isFinite(by)) throw new TypeError(`a counter can't be increased by ${by}`);
      entry.value += by;
    },
  };
}

/** histogramSeries is the series of histogram with these label values (in labelNames order). */
export function histogramSeries(histogram: client.Histogram<string>, ...values: string[]): HistogramSeries {
  const metric = histogram as unknown as Internals<HistogramEntry>;
  const child = histogram.labels(...values);
  const key = keyOf(metric, values);
  const bounds = metric.upperBounds ?? [];
  // The buckets' keys as prom-client spells them (a number used as a property name).
  const bucketKeys = bounds.map(String);
  let entry: HistogramEntry | undefined;
  return {
    observe(value) {
      if (entry === undefined || metric.hashMap[key] !== entry) {
        child.observe(value);
        entry = metric.hashMap[key];
        return;
      }
      if (!Number.isFinite(value)) throw new TypeError(`a histogram can't observe ${value}`);
      entry.sum += value;
      entry.count += 1;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          entry.bucketValues[bucketKeys[i]!]! += 1;
          return;
        }
      }
    },
  };
}
