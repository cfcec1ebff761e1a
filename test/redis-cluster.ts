// Throwaway Redis Cluster and Sentinel deployments from Debian's redis-server, on free loopback
// ports in a temp dir, for the suites that check the store on them. Every server is started here
// and stopped by its pid; a stopped master can be started again on its port with its own nodes.conf.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeRedis } from "./backends.ts";
import { freePorts } from "./binaries.ts";
import { redisServerBinary } from "./redis-server.ts";
import { within } from "./wait.ts";

export const redisCliBinary = Bun.which("redis-cli");

/** clusterSkipReason is why a suite can't start a cluster or sentinels here, or undefined. */
export const clusterSkipReason = !redisServerBinary
  ? "no redis-server binary on PATH (Debian redis-server)"
  : !redisCliBinary
    ? "no redis-cli binary on PATH (Debian redis-tools)"
    : undefined;

export type RedisNode = {
  port: number;
  address: string;
  pid(): number | undefined;
  /** start runs the server (again) on its port and waits for PONG. */
  start(): Promise<void>;
  /** kill stops it like a crash (SIGKILL). */
  kill(): Promise<void>;
};

function redisNode(dir: string, port: number, args: string[]): RedisNode {
  let proc: Bun.Subprocess | undefined;
  const address = `127.0.0.1:${port}`;
  return {
    port,
    address,
    pid: () => proc?.pid,
    async start() {
      const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
      const started = Bun.spawn([redisServerBinary!, ...args, ...common], { stdout: "ignore", stderr: "ignore", cwd: dir });
      proc = started;
      await within(5000, `redis-server ${address} start`, async () => {
        if (started.exitCode !== null) throw new Error(`exited with ${started.exitCode} (port ${port} taken?)`);
        if (!(await probeRedis(`redis://${address}`))) throw new Error("no PONG yet");
      });
    },
    async kill() {
      proc?.kill("SIGCONT");
      proc?.kill("SIGKILL");
      await proc?.exited;
      proc = undefined;
    },
  };
}

const cli = (port: number, ...args: string[]) => {
  const run = Bun.spawnSync([redisCliBinary!, "-h", "127.0.0.1", "-p", String(port), ...args]);
  return run.stdout.toString();
};

export type RedisCluster = {
  /** nodes are the masters' host:port seeds, as REDIS_CLUSTER_NODES takes them (comma-joined). */
  nodes: string[];
  masters: RedisNode[];
  /** healthy waits until every master says cluster_state:ok. */
  healthy(): Promise<void>;
  close(): Promise<void>;
};

/** startRedisCluster runs `masters` cluster-enabled redis-servers (no replicas) and joins them with
 * `redis-cli --cluster create`, the slots split evenly. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const ports = freePorts(masters * 2);
  const nodes = Array.from({ length: masters }, (_, i) => {
    const [port, bus] = [ports[2 * i]!, ports[2 * i + 1]!];
    return redisNode(dir, port, [
      "--cluster-enabled",
      "yes",
      "--cluster-port",
      String(bus),
      "--cluster-config-file",
      `nodes-${port}.conf`,
      "--cluster-node-timeout",
      "1000",
    ]);
  });
  const cluster: RedisCluster = {
    nodes: nodes.map((node) => node.address),
    masters: nodes,
    async healthy() {
      await within(20_000, "cluster_state:ok", async () => {
        for (const node of nodes)
          if (!cli(node.port, "cluster", "info").includes("cluster_state:ok")) throw new Error(`${node.address} not ok`);
      });
    },
    async close() {
      for (const node of nodes) await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    const create = Bun.spawnSync([redisCliBinary!, "--cluster", "create", ...cluster.nodes, "--cluster-replicas", "0", "--cluster-yes"]);
    if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await cluster.healthy();
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}

export type RedisSentinels = {
  /** sentinels are the sentinels' host:port list, as REDIS_SENTINELS takes it (comma-joined). */
  sentinels: string[];
  name: string;
  master: RedisNode;
  replica: RedisNode;
  /** masterAddress asks the first sentinel who the master is now. */
  masterAddress(): string;
  close(): Promise<void>;
};

/** startRedisSentinels runs a master, a replica of it and `count` sentinels watching them (quorum 1,
 * down after 1 s), so a killed master is replaced within a few seconds. */
export async function startRedisSentinels(count = 1, name = "mymaster"): Promise<RedisSentinels> {
  const dir = mkdtempSync(join(tmpdir(), "redis-sentinel-"));
  const [masterPort, replicaPort, ...sentinelPorts] = freePorts(2 + count) as [number, number, ...number[]];
  const master = redisNode(dir, masterPort, []);
  const replica = redisNode(dir, replicaPort, ["--replicaof", "127.0.0.1", String(masterPort)]);
  const sentinels = sentinelPorts.map((port) => {
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    return redisNode(dir, port, [conf, "--sentinel"]);
  });
  const all = [master, replica, ...sentinels];
  const deployment: RedisSentinels = {
    sentinels: sentinels.map((node) => node.address),
    name,
    master,
    replica,
    masterAddress: () => cli(sentinelPorts[0]!, "sentinel", "get-master-addr-by-name", name).trim().split("\n").join(":"),
    async close() {
      for (const node of all) await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await master.start();
    await replica.start();
    await within(10_000, "replica in sync", async () => {
      if (!cli(replicaPort, "info", "replication").includes("master_link_status:up")) throw new Error("not yet");
    });
    for (const sentinel of sentinels) await sentinel.start();
    await within(10_000, "sentinel sees the replica", async () => {
      if (!cli(sentinelPorts[0]!, "sentinel", "replicas", name).includes(String(replicaPort))) throw new Error("not yet");
    });
  } catch (error) {
    await deployment.close();
    throw error;
  }
  return deployment;
}
