// The internal hop's pipelining HTTP/1.1 client: answers reach the right callers, requests a server
// never read are sent again, failures and deadlines, and what the server hears when a caller gives up.
import { afterEach, describe, expect, test } from "bun:test";
import { type Http1Client, ConnectionLost, createHttp1Client, DeadlineReached } from "./http1-client.ts";
import { type Http1Handler, type Http1Server, startHttp1Server } from "./http1-server.ts";

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const stop of cleanup.splice(0)) stop();
});

function serve(handler: Http1Handler): Http1Server {
  const server = startHttp1Server({ host: "127.0.0.1", port: 0, handler, maxBodyBytes: 1 << 20 });
  cleanup.push(() => server.stop(true));
  return server;
}

function client(port: number, options: { maxConnections?: number; idleSeconds?: number } = {}): Http1Client {
  const created = createHttp1Client("127.0.0.1", port, options);
  cleanup.push(() => created.close());
  return created;
}

const text = (body: Uint8Array) => new TextDecoder().decode(body);
const call = (c: Http1Client, body: string, headers: Record<string, string> = {}, options = {}) =>
  c.send("/echo", new Headers(headers), new TextEncoder().encode(body), options);

/** echo answers with the body it got, after x-delay milliseconds. */
const echo: Http1Handler = async (request) => {
  const delay = Number(request.headers.get("x-delay") ?? 0);
  if (delay > 0) await Bun.sleep(delay);
  return { status: 200, headers: new Headers({ "x-length": String(request.body.length) }), body: request.body };
};

describe("answers", () => {
  test("200 concurrent calls with bodies of every size, pipelined on 3 connections, each get their own answer", async () => {
    const server = serve(echo);
    const c = client(server.port, { maxConnections: 3 });
    const sizes = Array.from({ length: 200 }, (_, i) => (i * 7919) % 70_000);
    const answers = await Promise.all(sizes.map((size, i) => call(c, `${i}:`.padEnd(size, "x"), { "x-delay": String(i % 5) })));
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(text(answer.body)).toBe(`${i}:`.padEnd(sizes[i]!, "x"));
      expect(answer.headers).toContainEqual(["x-length", String(answer.body.length)]);
    });
  });

  test("reads a chunked answer and one framed by the end of the connection", async () => {
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, data) {
          if (data.toString().includes("/chunked")) {
            socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
          } else socket.end("HTTP/1.1 200 OK\r\nx-framing: eof\r\n\r\nuntil the end");
        },
      },
    });
    cleanup.push(() => raw.stop(true));
    const c = client(raw.port);
    expect(text((await c.send("/chunked", new Headers(), new Uint8Array())).body)).toBe("hello world");
    expect(text((await c.send("/eof", new Headers(), new Uint8Array())).body)).toBe("until the end");
  });

  test("requests pipelined behind an answer that says `connection: close` are sent again on a new connection", async () => {
    // A stand-in server that answers requests in order and ends the connection after every third
    // answer, reading nothing after it (as RFC 9112 has a server do).
    let connections = 0;
    const raw = Bun.listen<{ buffer: string; answered: number }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          connections++;
          socket.data = { buffer: "", answered: 0 };
        },
        data(socket, data) {
          const state = socket.data;
          state.buffer += data.toString("latin1");
          for (;;) {
            const end = state.buffer.indexOf("\r\n\r\n");
            if (end < 0) return;
            const length = Number(/content-length: (\d+)/.exec(state.buffer.slice(0, end))?.[1] ?? 0);
            if (state.buffer.length < end + 4 + length) return;
            const body = state.buffer.slice(end + 4, end + 4 + length);
            state.buffer = state.buffer.slice(end + 4 + length);
            const close = ++state.answered === 3;
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${close ? "connection: close\r\n" : ""}\r\n${body}`);
            if (close) return void socket.end();
          }
        },
      },
    });
    cleanup.push(() => raw.stop(true));
    const c = client(raw.port, { maxConnections: 1 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(c, `call ${i}`)));
    expect(answers.map((a) => text(a.body))).toEqual(Array.from({ length: 12 }, (_, i) => `call ${i}`));
    expect(connections).toBeGreaterThanOrEqual(4);
  });
});

describe("failures", () => {
  test("a port nobody listens on fails with ConnectionLost", async () => {
    const server = serve(echo);
    const port = server.port;
    server.stop(true);
    await Bun.sleep(20);
    expect(call(client(port), "x")).rejects.toBeInstanceOf(ConnectionLost);
  });

  test("a server that drops the connection mid-call fails its calls with ConnectionLost; the next call opens a new one", async () => {
    let first = true;
    const raw = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          if (first) {
            first = false;
            socket.terminate();
          } else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        },
      },
    });
    cleanup.push(() => raw.stop(true));
    const c = client(raw.port, { maxConnections: 1 });
    expect(call(c, "x")).rejects.toBeInstanceOf(ConnectionLost);
    await Bun.sleep(30);
    expect(text((await call(c, "y")).body)).toBe("ok");
  });

  test("a malformed answer fails the call instead of hanging", async () => {
    const raw = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (socket) => void socket.write("NOT HTTP\r\n\r\n") } });
    cleanup.push(() => raw.stop(true));
    expect(call(client(raw.port), "x")).rejects.toBeInstanceOf(ConnectionLost);
  });
});

describe("giving up", () => {
  test("timeoutMs fails the call with DeadlineReached, and the server hears of it when the connection closes", async () => {
    const aborted = Promise.withResolvers<void>();
    const server = serve((request) => {
      request.onAbort = () => aborted.resolve();
      return new Promise(() => {});
    });
    const started = performance.now();
    expect(call(client(server.port), "x", {}, { timeoutMs: 50 })).rejects.toBeInstanceOf(DeadlineReached);
    await aborted.promise;
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a caller's abort rejects with its reason at once; other calls on the connection still get their answers", async () => {
    const server = serve(echo);
    const c = client(server.port, { maxConnections: 1 });
    const controller = new AbortController();
    const slow = call(c, "slow", { "x-delay": "100" }, { signal: controller.signal });
    const other = call(c, "other", { "x-delay": "50" });
    await Bun.sleep(20);
    controller.abort(new Error("changed my mind"));
    expect(slow).rejects.toThrow("changed my mind");
    expect(text((await other).body)).toBe("other");
  });

  test("an idle connection is closed after idleSeconds, and the next call opens a new one", async () => {
    let connections = 0;
    const server = startHttp1Server({ host: "127.0.0.1", port: 0, handler: echo, maxBodyBytes: 1024 });
    cleanup.push(() => server.stop(true));
    const counting = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: () => void connections++,
        data(socket, data) {
          void fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "" }).then(() =>
            socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
          );
          void data;
        },
      },
    });
    cleanup.push(() => counting.stop(true));
    const c = client(counting.port, { idleSeconds: 1 });
    await call(c, "a");
    await Bun.sleep(1600);
    await call(c, "b");
    expect(connections).toBe(2);
  });
});
