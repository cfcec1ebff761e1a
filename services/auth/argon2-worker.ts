// One Argon2id thread (see argon2-threads.ts): lowers its own CPU priority, then hashes and
// verifies synchronously, one message at a time.
import { setPriority } from "node:os";
import type { Argon2Job, Argon2Reply } from "./argon2-threads.ts";

declare const self: Worker;

// Nice 19, the lowest priority: while requests want the CPU they get it, and an idle CPU goes
// wholly to hashing. On one saturated core a login then waits its turn and, past the wait bound,
// answers 503 + Retry-After instead of slowing every request; with more cores the hashing threads
// take the cores the event loop leaves. (A login flood's p99 on other routes: 1.8–2.2× idle at
// nice 10, 1.3–1.8× at 19; BENCHMARKS.md.)
const NICE = 19;

// On Linux the nice value belongs to the thread, so this leaves the event loop's thread alone.
// Elsewhere it would renice the whole process: skip it.
if (process.platform === "linux") {
  try {
    setPriority(NICE);
  } catch {
    // not allowed (a sandbox): run at normal priority
  }
}

self.onmessage = ({ data: job }: MessageEvent<Argon2Job>) => {
  let reply: Argon2Reply;
  try {
    const value = job.op === "hash" ? Bun.password.hashSync(job.password, job.params) : Bun.password.verifySync(job.password, job.hash);
    reply = { ok: true, value };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
};
