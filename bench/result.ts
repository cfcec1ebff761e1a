// The one line every load generator of the harness prints (wrk through wrk.lua, autocannon through
// load.ts, the in-process loops through printResult), and how run.ts reads it back.

/**
 * LoadResult is a finished load run: latencies in microseconds, errors including non-2xx answers;
 * cpuUsPerRequest when the loop measured CPU itself (hop-loop.ts: client and service together).
 */
export type LoadResult = { requests: number; durationUs: number; errors: number; p50Us: number; p99Us: number; cpuUsPerRequest?: number };

const MARK = "BENCH_RESULT ";

/** printResult writes the result line to stdout. */
export function printResult(result: LoadResult): void {
  console.log(MARK + JSON.stringify(result));
}

/** parseResult finds the result line in a tool's output; throws with the output when there is none. */
export function parseResult(output: string): LoadResult {
  const line = output.split("\n").find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`no result line in the load tool's output:\n${output.slice(-2000)}`);
  const parsed = JSON.parse(line.slice(MARK.length)) as { [K in keyof LoadResult]-?: number | null | undefined };
  const num = (value: number | null | undefined) => value ?? Number.NaN; // JSON turns NaN (no samples) into null
  return {
    requests: num(parsed.requests),
    durationUs: num(parsed.durationUs),
    errors: num(parsed.errors),
    p50Us: num(parsed.p50Us),
    p99Us: num(parsed.p99Us),
    ...(parsed.cpuUsPerRequest === undefined ? {} : { cpuUsPerRequest: num(parsed.cpuUsPerRequest) }),
  };
}

/** percentile of unsorted samples (nearest rank); NaN when there are none. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** callLoop keeps `concurrency` callers calling `call` back to back for `ms`, and collects their latencies (ms) and failures. */
export async function callLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  ms: number,
): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await call();
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, errors };
}
