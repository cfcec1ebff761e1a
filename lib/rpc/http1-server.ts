// A small HTTP/1.1 server on Bun.listen for the internal hop: keep-alive and pipelining, answers
// in request order, many answers per write. Bun.serve can't take the hop's load this cheaply: it
// spends ≈ 25 µs of CPU per request on the Request/Response/Headers objects, a signal and a URL,
// and it drops a connection that pipelines a request behind one whose answer is still pending (a
// handler on an await), so a caller can only send one call per connection at a time and every call
// costs a read and a write on each side (BENCHMARKS.md). Here a handler gets the parsed request
// and answers with status, Headers and bytes; anything that needs the fetch API (streams, connect's
// own handlers) answers with a Response, which is sent chunked as it is read.
//
// What it accepts: HTTP/1.1 and HTTP/1.0 requests in origin form, bodies by content-length or
// chunked (buffered up to maxBodyBytes; beyond that the handler is told, and the rest is read and
// dropped), `expect: 100-continue`, `connection: close`. Malformed heads, a content-length beside
// a transfer-encoding, and heads over 64 KiB get a 400/431 and the connection closes.
import { STATUS_CODES } from "node:http";
import type { Socket, TCPSocketListener } from "bun";
import { PortInUseError } from "../listen.ts";
import { type BodyReader, CRLF, chunkedBody, HEAD_END, lengthBody, readBody, readFields } from "./http1-framing.ts";

export type Http1Request = {
  method: string;
  /** target is the request-target as sent: path and query. */
  target: string;
  headers: Headers;
  /** body is the whole body, or empty when it was over maxBodyBytes (tooLarge). */
  body: Uint8Array;
  /** tooLarge says the body was longer than maxBodyBytes and was not kept. */
  tooLarge: boolean;
  /** peer is the client's socket address. */
  peer: string;
  /** onAbort, when the handler sets it, runs if the connection closes before the answer is sent. */
  onAbort?: (reason: Error) => void;
};

export type Http1Answer = { status: number; headers: Headers; body: Uint8Array };
export type Http1Handler = (request: Http1Request) => Http1Answer | Response | Promise<Http1Answer | Response>;

export type Http1ServerOptions = {
  host: string;
  /** port 0 picks a free port; read the actual one from the result. */
  port: number;
  handler: Http1Handler;
  maxBodyBytes: number;
  /** onCall is told when a request is handed to the handler (+1) and when its answer is sent (-1). */
  onCall?: (delta: 1 | -1) => void;
  /** onError hears about a handler that threw or an answer that couldn't be sent (the client got a 500). */
  onError?: (error: unknown) => void;
  /** idleTimeoutSeconds closes a connection with nothing in flight after this long (default 30). */
  idleTimeoutSeconds?: number;
};

export type Http1Server = {
  port: number;
  /** stop(false): no new connections; idle ones close now, busy ones after their answers. stop(true): close every connection. */
  stop(force: boolean): void;
};

const MAX_HEAD_BYTES = 64 * 1024;
// Requests read ahead of their answers on one connection (a pipelining client waits beyond this).
const MAX_PIPELINED = 256;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/\S*) HTTP\/1\.([01])$/;
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");
const CRLF_BYTES = Buffer.from(CRLF);
// Headers a handler's answer can't set: the server frames the message itself.
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/** One request's place in its connection's answer queue (answers go out in request order). */
type Slot = {
  request?: Http1Request;
  /** head: the request was HEAD, so the answer has no body. */
  head: boolean;
  /** out holds bytes ready to send, done says nothing more will come. */
  out: Uint8Array[];
  done: boolean;
  close: boolean;
  /** counted: onCall(+1) was told about this request and (-1) is still owed. */
  counted: boolean;
};

type Pending = {
  method: string;
  target: string;
  headers: Headers;
  keepAlive: boolean;
  body: BodyReader;
  parts: Uint8Array[];
  length: number;
  tooLarge: boolean;
  expectContinue: boolean;
};

type Connection = {
  socket: Socket<Connection>;
  buffer: Buffer | undefined;
  pending: Pending | undefined;
  slots: Slot[];
  /** stopped: no more requests are read (after an error, `connection: close`, or a stop). */
  stopped: boolean;
  /** unsent holds bytes the socket didn't take, until it drains. */
  unsent: Uint8Array | undefined;
  /** paused: too many requests are waiting for their answers; the socket isn't read meanwhile. */
  paused: boolean;
  closed: boolean;
};

/** startHttp1Server listens on host:port and serves options.handler. */
export function startHttp1Server(options: Http1ServerOptions): Http1Server {
  const { handler, maxBodyBytes, onCall = () => {}, onError = () => {} } = options;
  const idle = options.idleTimeoutSeconds ?? 30;
  const connections = new Set<Connection>();
  let stopping = false;

  // Answers that finish outside a socket callback are sent together, once per turn of the loop.
  const dirty = new Set<Connection>();
  let flushScheduled = false;
  const flushAll = () => {
    flushScheduled = false;
    for (const connection of dirty) flush(connection);
    dirty.clear();
  };
  const markDirty = (connection: Connection) => {
    dirty.add(connection);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  };

  /** flush writes the answers at the head of the queue that are ready, in one write. */
  function flush(connection: Connection) {
    if (connection.closed || connection.unsent) return;
    const parts: Uint8Array[] = [];
    let close = false;
    while (connection.slots.length > 0) {
      const slot = connection.slots[0]!;
      for (const part of slot.out) parts.push(part);
      slot.out = [];
      if (!slot.done) break;
      connection.slots.shift();
      settle(slot);
      if (slot.close) {
        close = true;
        break;
      }
    }
    if (parts.length > 0) write(connection, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    if (connection.paused) queueMicrotask(() => resume(connection));
    if (close || (connection.stopped && connection.slots.length === 0 && !connection.pending)) {
      if (connection.unsent) connection.stopped = true;
      else connection.socket.end();
    } else if (connection.slots.length === 0) connection.socket.timeout(idle);
  }

  /** settle tells onCall a request is over: its answer is written, or its connection gone. */
  function settle(slot: Slot) {
    if (!slot.counted) return;
    slot.counted = false;
    onCall(-1);
  }

  function write(connection: Connection, bytes: Uint8Array) {
    const sent = connection.socket.write(bytes);
    if (sent < 0) return;
    if (sent < bytes.length) connection.unsent = bytes.subarray(sent);
  }

  function answerInto(connection: Connection, slot: Slot, answer: Http1Answer | Response) {
    if (answer instanceof Response) {
      // A body of known length (a unary answer) goes out whole with its length; others stream.
      if (answer.headers.has("content-length") && answer.body !== null) return void whole(connection, slot, answer);
      return void stream(connection, slot, answer);
    }
    const { status } = answer;
    const body = slot.head || status === 204 || status === 304 ? undefined : answer.body;
    const text = headText(status, answer.headers, `content-length: ${answer.body.length}`, slot.close);
    // Header values are ASCII (Headers allows no more): one byte per character.
    const bytes = Buffer.allocUnsafe(text.length + (body?.length ?? 0));
    const at = bytes.write(text, 0, "latin1");
    if (body) bytes.set(body, at);
    slot.out.push(bytes);
    slot.done = true;
  }

  /** whole reads a Response of known length and sends it as one answer. */
  function whole(connection: Connection, slot: Slot, response: Response) {
    response.bytes().then(
      (body) => finish(connection, slot, { status: response.status, headers: response.headers, body }),
      (error: unknown) => finish(connection, slot, failure(error)),
    );
  }

  /** stream sends a Response chunked, each chunk as it is read. */
  function stream(connection: Connection, slot: Slot, response: Response) {
    const body = slot.head || response.status === 204 || response.status === 304 ? null : response.body;
    const framing = body ? "transfer-encoding: chunked" : "content-length: 0";
    slot.out.push(Buffer.from(headText(response.status, response.headers, framing, slot.close), "latin1"));
    if (!body) {
      slot.done = true;
      void response.body?.cancel().catch(() => {});
      return;
    }
    const reader = body.getReader();
    const pump = async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (connection.closed) return void reader.cancel().catch(() => {});
          if (done) break;
          if (value.length === 0) continue;
          slot.out.push(Buffer.from(`${value.length.toString(16)}\r\n`, "latin1"), value, CRLF_BYTES);
          markDirty(connection);
        }
        slot.out.push(LAST_CHUNK);
      } catch (error) {
        // The head is out: the only way to say the body failed is to end the connection early.
        onError(error);
        slot.close = true;
      }
      slot.done = true;
      markDirty(connection);
    };
    void pump();
  }

  /** dispatch hands a complete request to the handler and queues its answer. */
  function dispatch(connection: Connection, pending: Pending) {
    const request: Http1Request = {
      method: pending.method,
      target: pending.target,
      headers: pending.headers,
      body: pending.parts.length === 1 ? pending.parts[0]! : new Uint8Array(Buffer.concat(pending.parts)),
      tooLarge: pending.tooLarge,
      peer: connection.socket.remoteAddress,
    };
    const slot: Slot = { request, head: pending.method === "HEAD", out: [], done: false, close: !pending.keepAlive, counted: true };
    connection.slots.push(slot);
    if (slot.close) connection.stopped = true;
    onCall(1);
    let result: ReturnType<Http1Handler>;
    try {
      result = handler(request);
    } catch (error) {
      result = failure(error);
    }
    if (result instanceof Promise) {
      result.then(
        (answer) => finish(connection, slot, answer),
        (error: unknown) => finish(connection, slot, failure(error)),
      );
    } else {
      finish(connection, slot, result);
    }
  }

  function failure(error: unknown): Http1Answer {
    onError(error);
    return plain(500);
  }

  function finish(connection: Connection, slot: Slot, answer: Http1Answer | Response) {
    slot.request = undefined;
    if (connection.closed) {
      if (answer instanceof Response) void answer.body?.cancel().catch(() => {});
      return;
    }
    answerInto(connection, slot, answer);
    markDirty(connection);
  }

  /** refuse queues a final error answer and stops reading: the connection's framing is lost. */
  function refuse(connection: Connection, status: number) {
    connection.pending = undefined;
    connection.buffer = undefined;
    connection.stopped = true;
    const slot: Slot = { head: false, out: [], done: false, close: true, counted: false };
    connection.slots.push(slot);
    answerInto(connection, slot, plain(status));
  }

  /** parseHead reads one request head, or gives the status that refuses it. */
  function parseHead(text: string): Pending | number {
    const lines = text.split(CRLF);
    const line = REQUEST_LINE.exec(lines[0]!);
    if (!line) return 400;
    const fields = readFields(lines);
    if (!fields) return 400;
    const { length, transferEncoding, chunked, connection } = fields;
    // A length beside a transfer coding is how requests get smuggled; a coding other than chunked can't be framed.
    if (transferEncoding && (length !== undefined || !chunked)) return 400;
    // Appended one by one: Bun builds Headers from a list of pairs ≈ 1.7× slower.
    const headers = new Headers();
    try {
      for (const [name, value] of fields.pairs) headers.append(name, value);
    } catch {
      return 400;
    }
    const http10 = line[3] === "0";
    const keepAlive = http10 ? /\bkeep-alive\b/.test(connection) : !/\bclose\b/.test(connection);
    const declared = length === undefined ? 0 : Number(length);
    return {
      method: line[1]!,
      target: line[2]!,
      headers,
      keepAlive: keepAlive && !stopping,
      body: chunked ? chunkedBody() : lengthBody(declared),
      parts: [],
      length: 0,
      tooLarge: declared > maxBodyBytes,
      expectContinue: fields.expect === "100-continue",
    };
  }

  /** keep adds body bytes, or drops them once the body is over maxBodyBytes. */
  function keep(pending: Pending, data: Buffer, start: number, end: number) {
    pending.length += end - start;
    if (pending.length > maxBodyBytes) {
      pending.tooLarge = true;
      pending.parts = [];
    }
    // A copy (the socket may reuse its buffer), and a plain Uint8Array: protobuf's reader slices it
    // per string field, and a Buffer's subarray costs more.
    if (!pending.tooLarge) pending.parts.push(new Uint8Array(data.subarray(start, end)));
  }

  function onData(connection: Connection, chunk: Buffer) {
    if (connection.stopped) return;
    let data = chunk;
    if (connection.buffer) {
      data = Buffer.concat([connection.buffer, chunk]);
      connection.buffer = undefined;
    }
    let offset = 0;
    while (offset < data.length && !connection.stopped && connection.slots.length < MAX_PIPELINED) {
      let pending = connection.pending;
      if (!pending) {
        const end = data.indexOf(HEAD_END, offset);
        if (end < 0) {
          if (data.length - offset > MAX_HEAD_BYTES) refuse(connection, 431);
          break;
        }
        if (end - offset > MAX_HEAD_BYTES) {
          refuse(connection, 431);
          break;
        }
        // Blank lines before a request are tolerated (RFC 9112 §2.2).
        let start = offset;
        while (data[start] === 13 && data[start + 1] === 10) start += 2;
        const parsed = parseHead(data.toString("latin1", start, end));
        if (typeof parsed === "number") {
          refuse(connection, parsed);
          break;
        }
        pending = parsed;
        offset = end + 4;
        connection.pending = pending;
        if (pending.expectContinue && connection.slots.length === 0 && !pending.tooLarge) write(connection, CONTINUE);
      }
      const next = readBody(pending.body, data, offset, (start, end) => keep(pending, data, start, end));
      if (next < 0) {
        refuse(connection, 400);
        break;
      }
      offset = next;
      if (!pending.body.done) break;
      connection.pending = undefined;
      dispatch(connection, pending);
    }
    // A partial head or chunk line waits for the rest (a copy: the socket may reuse its buffer).
    if (offset < data.length && !connection.stopped) connection.buffer = Buffer.from(data.subarray(offset));
    // A client that pipelines more than MAX_PIPELINED unanswered requests is read no further until
    // answers go out: what it sends waits in the kernel's buffers, not in this process.
    if (connection.slots.length >= MAX_PIPELINED && !connection.paused) {
      connection.paused = true;
      connection.socket.pause();
    }
    flush(connection);
  }

  /** resume reads a paused connection again once its queue has room, starting with what it buffered. */
  function resume(connection: Connection) {
    if (!connection.paused || connection.closed || connection.slots.length >= MAX_PIPELINED / 2) return;
    connection.paused = false;
    connection.socket.resume();
    if (connection.buffer) onData(connection, Buffer.alloc(0));
  }

  let listener: TCPSocketListener<Connection>;
  try {
    listener = Bun.listen<Connection>({
      hostname: options.host,
      port: options.port,
      socket: {
        open(socket) {
          const connection: Connection = {
            socket,
            buffer: undefined,
            pending: undefined,
            slots: [],
            stopped: false,
            unsent: undefined,
            paused: false,
            closed: false,
          };
          socket.data = connection;
          socket.setNoDelay(true);
          socket.timeout(idle);
          connections.add(connection);
          if (stopping) socket.end();
        },
        data(socket, chunk) {
          socket.timeout(0);
          onData(socket.data, chunk);
        },
        drain(socket) {
          const connection = socket.data;
          const unsent = connection.unsent;
          if (!unsent) return;
          connection.unsent = undefined;
          write(connection, unsent);
          if (!connection.unsent) flush(connection);
        },
        close(socket) {
          const connection = socket.data;
          if (!connection || connection.closed) return;
          connection.closed = true;
          connections.delete(connection);
          dirty.delete(connection);
          const reason = new Error("the client closed the connection");
          for (const slot of connection.slots) {
            slot.request?.onAbort?.(reason);
            settle(slot);
          }
          connection.slots = [];
        },
        timeout(socket) {
          socket.end();
        },
        error(_socket, error) {
          onError(error);
        },
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUseError(options.host, options.port, { cause: error });
    throw error;
  }

  return {
    port: listener.port,
    stop(force) {
      stopping = true;
      listener.stop(force);
      for (const connection of connections) {
        if (force) connection.socket.terminate();
        else {
          connection.stopped = true;
          if (connection.slots.length === 0) connection.socket.end();
          else connection.slots[connection.slots.length - 1]!.close = true;
        }
      }
    },
  };
}

/** headText is an answer's status line and fields, with the framing field the server chose. */
function headText(status: number, headers: Headers, framing: string, close: boolean): string {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  headers.forEach((value, key) => {
    if (!FRAMING.has(key)) text += `${key}: ${value}\r\n`;
  });
  return `${text}${framing}\r\n${close ? "connection: close\r\n" : ""}\r\n`;
}

function plain(status: number): Http1Answer {
  return { status, headers: new Headers({ "content-type": "text/plain" }), body: Buffer.from(STATUS_CODES[status] ?? "") };
}
