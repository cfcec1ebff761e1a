// The internal hop's HTTP/1.1 server against raw bytes from a socket: pipelining in order, the
// framings it accepts, the ones it refuses, and its connections' lifecycle.
import { afterEach, describe, expect, test } from "bun:test";
import { type Http1Handler, type Http1Request, type Http1Server, startHttp1Server } from "./http1-server.ts";

const servers: Http1Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

/** echo answers with the method, target and body, after the delay the x-delay header asks for. */
const echo: Http1Handler = async (request) => {
  const delay = Number(request.headers.get("x-delay") ?? 0);
  if (delay > 0) await Bun.sleep(delay);
  const body = `${request.method} ${request.target} ${request.tooLarge ? "(too large)" : new TextDecoder().decode(request.body)}`;
  return { status: 200, headers: new Headers({ "content-type": "text/plain", "x-seen": request.peer }), body: Buffer.from(body) };
};

function start(handler: Http1Handler = echo, options: { maxBodyBytes?: number; onCall?: (delta: 1 | -1) => void } = {}) {
  const server = startHttp1Server({
    host: "127.0.0.1",
    port: 0,
    handler,
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    onCall: options.onCall,
  });
  servers.push(server);
  return server;
}

type Raw = { send(bytes: string | Uint8Array): void; text(): string; closed: Promise<void>; close(): void };

/** connect opens a raw socket and collects everything the server sends. */
async function connect(port: number): Promise<Raw> {
  let received = "";
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_, chunk) {
        received += chunk.toString("latin1");
      },
      close: () => resolve(),
    },
  });
  return { send: (bytes) => socket.write(bytes), text: () => received, closed, close: () => socket.end() };
}

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(5);
  }
};
const post = (target: string, body: string, extra = "") =>
  `POST ${target} HTTP/1.1\r\nhost: x\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const bodies = (text: string) =>
  [...text.matchAll(/\r\n\r\n(POST|GET) (\S+) ([^\r]*?)(?=HTTP\/1\.1 |$)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

describe("pipelining", () => {
  test("answers pipelined requests in request order, a slow first one included, several per write", async () => {
    const raw = await connect(start().port);
    raw.send(post("/a", "one", "x-delay: 60\r\n") + post("/b", "two") + post("/c", "three", "x-delay: 20\r\n"));
    await until(() => bodies(raw.text()).length === 3);
    expect(bodies(raw.text())).toEqual(["POST /a one", "POST /b two", "POST /c three"]);
    expect(raw.text()).toContain("x-seen: 127.0.0.1");
  });

  test("a client that pipelines 2,000 requests at once is read at most 256 ahead of its answers, and every one is answered in order", async () => {
    let running = 0;
    let most = 0;
    const raw = await connect(
      start(async (request) => {
        most = Math.max(most, ++running);
        await Bun.sleep(1);
        running--;
        return echo(request);
      }).port,
    );
    raw.send(Array.from({ length: 2000 }, (_, i) => post(`/n${i}`, String(i))).join(""));
    await until(() => bodies(raw.text()).length === 2000, 15_000);
    expect(bodies(raw.text())).toEqual(Array.from({ length: 2000 }, (_, i) => `POST /n${i} ${i}`));
    expect(most).toBeLessThanOrEqual(256);
  });

  test("reads heads and bodies that arrive a byte at a time", async () => {
    const raw = await connect(start().port);
    for (const byte of post("/slow", "bytes")) {
      raw.send(byte);
      await Bun.sleep(0);
    }
    await until(() => bodies(raw.text()).length === 1);
    expect(bodies(raw.text())).toEqual(["POST /slow bytes"]);
  });
});

describe("framing", () => {
  test("assembles a chunked body (extensions and trailer fields ignored) and keeps the connection", async () => {
    const raw = await connect(start().port);
    raw.send(
      "POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: t\r\n\r\n",
    );
    raw.send(post("/next", "ok"));
    await until(() => bodies(raw.text()).length === 2);
    expect(bodies(raw.text())).toEqual(["POST /chunked abcdefg", "POST /next ok"]);
  });

  test("sends 100 Continue to a client that expects it, then the answer", async () => {
    const raw = await connect(start().port);
    raw.send("POST /wait HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n");
    await until(() => raw.text().includes("100 Continue"));
    raw.send("body");
    await until(() => bodies(raw.text()).length === 1);
    expect(raw.text().startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")).toBe(true);
  });

  test("a body over maxBodyBytes reaches the handler as tooLarge, its bytes are skipped, and the next request is served", async () => {
    const raw = await connect(start(echo, { maxBodyBytes: 8 }).port);
    raw.send(post("/big", "x".repeat(5000)) + post("/small", "fine"));
    await until(() => bodies(raw.text()).length === 2);
    expect(bodies(raw.text())).toEqual(["POST /big (too large)", "POST /small fine"]);
  });

  test.each([
    ["a malformed request line", "GARBAGE\r\n\r\n", 400],
    ["a header line without a colon", "POST / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
    ["an invalid header name", "POST / HTTP/1.1\r\nbad name: x\r\n\r\n", 400],
    [
      "content-length beside transfer-encoding (smuggling)",
      "POST / HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
      400,
    ],
    ["two different content-lengths", "POST / HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n", 400],
    ["a transfer coding that isn't chunked", "POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 400],
    ["bad chunk framing", "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400],
    ["HTTP/2 spoken without the upgrade", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
    ["a head over 64 KiB", `POST / HTTP/1.1\r\nx-big: ${"a".repeat(70 * 1024)}\r\n\r\n`, 431],
  ])("%s: refused, and the connection closes", async (_, bytes, status) => {
    const calls: Http1Request[] = [];
    const raw = await connect(
      start((request) => {
        calls.push(request);
        return echo(request);
      }).port,
    );
    raw.send(bytes);
    await raw.closed;
    expect(raw.text()).toStartWith(`HTTP/1.1 ${status} `);
    expect(raw.text()).toContain("connection: close");
    expect(calls).toHaveLength(0);
  });
});

describe("connections", () => {
  test("`connection: close` is answered, then the connection ends and what was pipelined behind it is not read", async () => {
    let calls = 0;
    const raw = await connect(
      start((request) => {
        calls++;
        return echo(request);
      }).port,
    );
    raw.send(post("/last", "bye", "connection: close\r\n") + post("/never", "x"));
    await raw.closed;
    expect(bodies(raw.text())).toEqual(["POST /last bye"]);
    expect(raw.text()).toContain("connection: close");
    expect(calls).toBe(1);
  });

  test("an HTTP/1.0 request without keep-alive is answered and the connection ends", async () => {
    const raw = await connect(start().port);
    raw.send("GET /old HTTP/1.0\r\n\r\n");
    await raw.closed;
    expect(raw.text()).toStartWith("HTTP/1.1 200 OK");
  });

  test("a client that goes away aborts its calls in flight (onAbort)", async () => {
    const aborted = Promise.withResolvers<Error>();
    const raw = await connect(
      start((request) => {
        request.onAbort = (reason) => aborted.resolve(reason);
        return new Promise(() => {});
      }).port,
    );
    raw.send(post("/hang", ""));
    await Bun.sleep(30);
    raw.close();
    expect((await aborted.promise).message).toContain("closed the connection");
  });

  test("streams a Response answer chunked, as it is produced", async () => {
    const raw = await connect(
      start(() => {
        const chunks = ["first ", "second ", "third"];
        const stream = new ReadableStream({
          async pull(controller) {
            await Bun.sleep(5);
            const next = chunks.shift();
            if (next === undefined) controller.close();
            else controller.enqueue(new TextEncoder().encode(next));
          },
        });
        return new Response(stream, { headers: { "content-type": "text/plain" } });
      }).port,
    );
    raw.send(post("/stream", ""));
    await until(() => raw.text().endsWith("0\r\n\r\n"));
    const text = raw.text();
    expect(text).toContain("transfer-encoding: chunked");
    expect(text).not.toContain("content-length");
    expect(text.slice(text.indexOf("\r\n\r\n") + 4)).toBe("6\r\nfirst \r\n7\r\nsecond \r\n5\r\nthird\r\n0\r\n\r\n");
  });

  test("a Response that declares its length goes out whole, with the length of what it holds", async () => {
    const raw = await connect(start(() => new Response("twelve bytes", { headers: { "content-length": "999" } })).port);
    raw.send(post("/whole", ""));
    await until(() => raw.text().endsWith("twelve bytes"));
    expect(raw.text()).toContain("content-length: 12\r\n");
    expect(raw.text()).not.toContain("chunked");
  });

  test("a large answer arrives whole (the socket's backpressure is respected)", async () => {
    const big = Buffer.alloc(16 * 1024 * 1024, 97);
    const server = start(() => ({ status: 200, headers: new Headers(), body: big }));
    const res = await fetch(`http://127.0.0.1:${server.port}/big`, { method: "POST", body: "" });
    expect((await res.bytes()).length).toBe(big.length);
  });

  test("stop(false) closes idle connections at once and busy ones after their answer, telling onCall each call ended", async () => {
    let inFlight = 0;
    const server = start(echo, { onCall: (delta) => (inFlight += delta) });
    const idle = await connect(server.port);
    const busy = await connect(server.port);
    busy.send(post("/slow", "done", "x-delay: 80\r\n"));
    await until(() => inFlight === 1);
    server.stop(false);
    await idle.closed;
    await busy.closed;
    expect(bodies(busy.text())).toEqual(["POST /slow done"]);
    expect(busy.text()).toContain("connection: close");
    expect(inFlight).toBe(0);
  });
});
