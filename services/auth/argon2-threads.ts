// The process's Argon2id threads: one worker per core, started on first use, each running one hash
// or verification at a time at the lowest CPU priority (argon2-worker.ts). Bun.password's own async
// functions run on Bun's shared thread pool at normal priority, so a login flood took CPU time from
// every other request; here hashing gets whatever the event loop leaves (BENCHMARKS.md).
import { availableParallelism } from "node:os";
import type { Argon2Params, Hasher } from "./passwords.ts";

export type Argon2Job = { op: "hash"; password: string; params: Argon2Params } | { op: "verify"; password: string; hash: string };
export type Argon2Reply = { ok: true; value: string | boolean } | { ok: false; message: string };

type Pending = { job: Argon2Job; resolve: (value: string | boolean) => void; reject: (error: Error) => void };

/** THREADS is how many hashes run at once in this process: the available cores. */
export const THREADS = Math.max(1, availableParallelism());

const idle: Worker[] = [];
const busy = new Map<Worker, Pending>();
const queue: Pending[] = [];

// Inside a single-file executable, entry points live under /$bunfs/root/ by their path from the
// repository root (scripts/build.ts bundles this worker as one).
const WORKER_URL = import.meta.url.startsWith("file:///$bunfs/")
  ? "/$bunfs/root/services/auth/argon2-worker.ts"
  : new URL("./argon2-worker.ts", import.meta.url).href;

function startWorker(): Worker {
  const worker = new Worker(WORKER_URL);
  worker.unref(); // hashing threads never keep the process alive
  // Each worker has at most one job (busy): its reply is that job's.
  worker.onmessage = ({ data: reply }: MessageEvent<Argon2Reply>) => {
    const pending = busy.get(worker);
    busy.delete(worker);
    if (pending) {
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(new Error(reply.message));
    }
    dispatch(worker);
  };
  // A thread that dies takes its job with it: fail that job, start a fresh thread for the rest.
  worker.onerror = (event) => {
    event.preventDefault();
    const pending = busy.get(worker);
    busy.delete(worker);
    worker.terminate();
    pending?.reject(new Error(`argon2 thread failed: ${event.message}`));
    if (queue.length > 0) dispatch(startWorker());
  };
  return worker;
}

function dispatch(worker: Worker) {
  const next = queue.shift();
  if (!next) return void idle.push(worker);
  busy.set(worker, next);
  worker.postMessage(next.job);
}

function run(job: Argon2Job): Promise<string | boolean> {
  return new Promise((resolve, reject) => {
    queue.push({ job, resolve, reject });
    const worker = idle.pop() ?? (busy.size < THREADS ? startWorker() : undefined);
    if (worker) dispatch(worker);
  });
}

/** threadHasher hashes and verifies on the Argon2id threads; jobs beyond THREADS wait in order. */
export const threadHasher: Hasher = {
  hash: (password, params) => run({ op: "hash", password, params }) as Promise<string>,
  verify: (password, hash) => run({ op: "verify", password, hash }) as Promise<boolean>,
};
