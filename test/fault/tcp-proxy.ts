// A TCP proxy on loopback that the test can cut or freeze: the service under test reaches
// PostgreSQL through it, so "the database became unreachable" or "the network went silent" is one
// call, and the machine's PostgreSQL is never touched.
import { createServer, connect, type Socket } from "node:net";

export type TcpProxy = {
  port: number;
  /** cut resets every open connection and stops listening: new connections are refused. */
  cut(): Promise<void>;
  /** restore listens again on the same port. */
  restore(): Promise<void>;
  /** freeze holds every byte (connections stay open, new ones are accepted): a silent network. */
  freeze(): void;
  /** thaw delivers what was held and forwards again. */
  thaw(): void;
  close(): Promise<void>;
};

/** startTcpProxy forwards 127.0.0.1:<port 0> to target. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let held: [Socket, Buffer][] | undefined;
  const forward = (from: Socket, to: Socket) => {
    from.on("data", (chunk: Buffer) => (held ? held.push([to, chunk]) : to.write(chunk)));
    from.once("close", () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.on("error", () => {}); // a reset on one side just ends the pair
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  const { port } = address;

  const cut = async () => {
    held = undefined;
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.resetAndDestroy();
    await closed;
  };
  return {
    port,
    cut,
    restore: () => listen(port),
    freeze() {
      held ??= [];
    },
    thaw() {
      const pending = held ?? [];
      held = undefined;
      for (const [to, chunk] of pending) if (!to.destroyed) to.write(chunk);
    },
    close: cut,
  };
}
