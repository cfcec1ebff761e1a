// `bun run bench:balance`: why the binaries balance over a headless Service's DNS answers rather
// than through a ClusterIP. Two replicas serve GetUser, a caller keeps 32 calls in flight, then a
// third replica starts (a scale-out). Measured: the share of calls each replica gets after it.
//
//   ClusterIP  — the caller has one URL; a TCP proxy here picks a replica per new connection, as
//                kube-proxy does. Keep-alive connections stay where they were opened.
//   headless   — the caller resolves the name to every replica (re-resolving every second here,
//                5 s in the binaries) and round-robins per call (lib/rpc/balance.ts).
//
// Replicas listen on 127.0.0.1, 127.0.0.2 and 127.0.0.3, one port, as pods behind one Service.
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { createRpcTransport } from "../lib/rpc/client.ts";
import { startRpcServer, type RpcServer } from "../lib/rpc/server.ts";

const PHASE_MS = Number(process.env.BALANCE_PHASE_MS ?? 3000);
const IN_FLIGHT = 32;
const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
const USER = { id: "0b7e4c2a-1f3d-4e5a-9b6c-7d8e9f0a1b2c", email: "a@example.com", name: "A", role: "user", createdAt: "", updatedAt: "" };

type Replica = { host: string; server: RpcServer; calls: number };

async function startReplica(host: string, internalPort: number): Promise<Replica> {
  const replica = { host, calls: 0 } as Replica;
  const routes = (router: ConnectRouter) =>
    router.service(UserService, {
      getUser() {
        replica.calls++;
        return USER;
      },
    });
  replica.server = await startRpcServer({ host, port: 0, internalPort, routes, services: [UserService], log: () => {} });
  return replica;
}

// kube-proxy's ClusterIP in miniature: each new connection goes to the next backend, then stays.
function startProxy(backends: () => string[]) {
  let next = 0;
  type Pipe = { peer?: import("bun").Socket<Pipe>; pending: Uint8Array[] };
  return Bun.listen<Pipe>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
        client.data = { pending: [] };
        const list = backends();
        const [host, port] = (list[next++ % list.length] as string).split(":") as [string, string];
        const upstream = await Bun.connect<Pipe>({
          hostname: host,
          port: Number(port),
          socket: {
            data(_, chunk) {
              client.write(chunk);
            },
            close() {
              client.end();
            },
            error() {
              client.end();
            },
          },
          data: { peer: client, pending: [] },
        });
        client.data.peer = upstream;
        for (const chunk of client.data.pending) upstream.write(chunk);
      },
      data(client, chunk) {
        if (client.data.peer) client.data.peer.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.peer?.end();
      },
      error(client) {
        client.data.peer?.end();
      },
    },
  });
}

async function drive(call: () => Promise<unknown>, ms: number): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        await call();
        done++;
      }
    }),
  );
  return done;
}

async function scenario(name: string, client: (port: number, live: () => string[]) => ReturnType<typeof createRpcTransport>) {
  const first = await startReplica(HOSTS[0]!, 0);
  const port = Number(new URL(first.server.internalUrl!).port);
  const replicas = [first, await startReplica(HOSTS[1]!, port)];
  const live = () => replicas.map((r) => `${r.host}:${port}`);
  const users = createClient(UserService, client(port, live));
  const call = () => users.getUser({ id: USER.id });
  await drive(call, PHASE_MS); // before the scale-out
  replicas.push(await startReplica(HOSTS[2]!, port));
  for (const r of replicas) r.calls = 0;
  const total = await drive(call, PHASE_MS);
  const shares = replicas.map((r) => `${((100 * r.calls) / total).toFixed(0)} %`);
  console.log(`| ${name} | ${Math.round(total / (PHASE_MS / 1000)).toLocaleString("en-US")} | ${shares.join(" | ")} |`);
  await Promise.all(replicas.map((r) => r.server.close()));
}

console.log(`## bun run bench:balance (${IN_FLIGHT} calls in flight; a third replica starts, then ${PHASE_MS / 1000} s measured)

| Routing | calls/s after | replica 1 | replica 2 | replica 3 (new) |
|---|--:|--:|--:|--:|`);
await scenario("ClusterIP (a connection is balanced once, then kept)", (_port, live) => {
  const proxy = startProxy(live);
  return createRpcTransport(`http://127.0.0.1:${proxy.port}`);
});
// Re-resolved often against the phase, so the new replica is seen early in it.
const REFRESH_MS = Math.min(1000, PHASE_MS / 5);
await scenario(`headless + client-side round robin (re-resolved every ${REFRESH_MS / 1000} s)`, (port, live) =>
  createRpcTransport(`http://replicas.bench:${port}`, {
    balance: { resolve: async () => live().map((address) => address.split(":")[0]!), refreshMs: REFRESH_MS },
  }),
);
process.exit(0);
