// A throwaway PgBouncer (Debian's pgbouncer) in transaction mode in front of a PostgreSQL, on a free
// loopback port with its own ini and userlist in a temp dir; stopped by its pid.
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./binaries.ts";
import { within } from "./wait.ts";
import { connectionRefused } from "./fault/probes.ts";

export const pgbouncerBinary = Bun.which("pgbouncer") ?? Bun.which("pgbouncer", { PATH: "/usr/sbin:/sbin" });

export type PgBouncer = {
  /** url is target's URL with the pooler's host and port. */
  url: string;
  pid: number;
  log(): Promise<string>;
  close(): Promise<void>;
};

export type PgBouncerOptions = {
  /** poolSize is the server connections per database and user (default_pool_size). */
  poolSize: number;
  /** queryWaitSeconds is how long a client waits for a server connection before PgBouncer refuses it. */
  queryWaitSeconds: number;
};

/** startPgBouncer runs pgbouncer in transaction mode in front of target (a postgresql:// URL on loopback). */
export async function startPgBouncer(target: string, { poolSize, queryWaitSeconds }: PgBouncerOptions): Promise<PgBouncer> {
  if (!pgbouncerBinary) throw new Error("no pgbouncer on PATH");
  const dir = mkdtempSync(join(tmpdir(), "pgbouncer-"));
  const [port] = freePorts(1) as [number];
  const server = new URL(target);
  const user = decodeURIComponent(server.username || "postgres");
  writeFileSync(join(dir, "userlist.txt"), `"${user}" ""\n`);
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${server.hostname} port=${server.port || 5432}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(dir, "userlist.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${poolSize}`,
      "max_client_conn = 1000",
      `query_wait_timeout = ${queryWaitSeconds}`,
      `logfile = ${join(dir, "pgbouncer.log")}`,
      "ignore_startup_parameters = extra_float_digits,options",
      "",
    ].join("\n"),
  );
  // PgBouncer refuses to run as root: as root, it drops to the postgres user (-u), who must read the dir.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const postgresUser = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
    for (const path of [dir, join(dir, "userlist.txt"), join(dir, "pgbouncer.ini")]) chownSync(path, Number(postgresUser), 0);
    chmodSync(dir, 0o755);
  }
  const proc = Bun.spawn([pgbouncerBinary, ...(asRoot ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  const bouncer: PgBouncer = {
    url: url.toString(),
    pid: proc.pid,
    log: () => Bun.file(join(dir, "pgbouncer.log")).text(),
    async close() {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await within(5000, "pgbouncer listening", async () => {
      if (proc.exitCode !== null) throw new Error(`pgbouncer exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
      if (await connectionRefused(bouncer.url.replace(/^postgresql:/, "http:"))) throw new Error("not yet");
    });
  } catch (error) {
    await bouncer.close();
    throw error;
  }
  return bouncer;
}
