// The processes a run starts: spawned pinned to the server core, output kept in a log file for
// failures, each stopped by its own pid (SIGTERM, SIGKILL after 10 s). CPU time and RSS come from
// /proc (Linux); elsewhere they read as NaN and print as "—".
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");

export type Pinning = { server: string[]; load: string[]; description: string };

/** pinning puts servers on core 0 and load on core 1 when taskset works and there are two cores. */
export function pinning(): Pinning {
  const cores = navigator.hardwareConcurrency;
  const works = cores >= 2 && Bun.which("taskset") !== null && Bun.spawnSync(["taskset", "-c", "0", "true"]).exitCode === 0;
  if (!works) return { server: [], load: [], description: `none (${cores} cores${Bun.which("taskset") ? "" : ", no taskset"})` };
  return {
    server: ["taskset", "-c", "0"],
    load: ["taskset", "-c", "1"],
    description: "taskset: servers on core 0, load generators on core 1",
  };
}

export type Proc = { name: string; pid: number; stop(): Promise<void>; log(): string };

const running = new Set<Proc>();

/** spawn starts `bun <args>` from the repository root; its stdout and stderr go to logFile. */
export function spawn(name: string, args: string[], options: { env: Record<string, string>; pin: string[]; logFile: string }): Proc {
  const fd = openSync(options.logFile, "a");
  const proc = Bun.spawn([...options.pin, process.execPath, ...args], {
    cwd: ROOT,
    env: options.env,
    stdin: "ignore",
    stdout: fd,
    stderr: fd,
  });
  closeSync(fd); // the child has its own copy
  const handle: Proc = {
    name,
    pid: proc.pid,
    log: () => {
      try {
        return readFileSync(options.logFile, "utf8").slice(-3000);
      } catch {
        return "";
      }
    },
    async stop() {
      running.delete(handle);
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(killer);
    },
  };
  running.add(handle);
  void proc.exited.then((code) => {
    if (running.has(handle)) console.error(`[bench] ${name} (pid ${proc.pid}) exited early with ${code}\n${handle.log()}`);
  });
  return handle;
}

/** stopAll stops every process this run started and has not stopped yet. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** waitFor polls ready() every 100 ms until it holds; fails with the processes' logs after timeoutMs. */
export async function waitFor(what: string, ready: () => Promise<boolean>, procs: Proc[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms\n${procs.map((p) => `--- ${p.name}\n${p.log()}`).join("\n")}`);
}

/** httpOk answers whether GET url is a 2xx. */
export const httpOk = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;

/** freePorts finds loopback ports nobody listens on (bound to 0, then released). */
export function freePorts(count: number): number[] {
  const sockets = Array.from({ length: count }, () => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const ports = sockets.map((socket) => socket.port);
  for (const socket of sockets) socket.stop(true);
  return ports;
}

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** cpuSeconds is the user + system CPU time the processes have used so far. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces: utime is the 12th.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return Number.NaN;
    }
  }
  return ticks / CLOCK_TICKS;
}

/** rssBytes is the processes' resident memory right now. */
export function rssBytes(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    } catch {
      return Number.NaN;
    }
  }
  return kib * 1024;
}
