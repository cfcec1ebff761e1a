// The raw cost of a login's password check: Bun.password.verify at the service's own Argon2id
// parameters, as many at once as the auth service allows (its default: the available cores), for
// SECONDS. Prints the same result line as the HTTP load tools.
import { availableParallelism } from "node:os";
import { OWASP_ARGON2ID } from "../services/auth/passwords.ts";
import { percentile, printResult } from "./result.ts";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? availableParallelism());
const password = "correct horse battery staple";
const hash = await Bun.password.hash(password, OWASP_ARGON2ID);

const latencies: number[] = [];
let errors = 0;
const start = performance.now();
const until = start + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      if (!(await Bun.password.verify(password, hash))) errors++;
      latencies.push(performance.now() - t);
    }
  }),
);
printResult({
  requests: latencies.length,
  durationUs: Math.round((performance.now() - start) * 1000),
  errors,
  p50Us: percentile(latencies, 50) * 1000,
  p99Us: percentile(latencies, 99) * 1000,
});
