// The calling side of the internal hop's HTTP/1.1: a few keep-alive connections per origin on
// Bun.connect, each carrying many requests at once (pipelining), the requests of one turn of the
// event loop in one write. Bun's fetch sends one request per connection at a time and costs
// ≈ 20 µs of CPU per call more than this (BENCHMARKS.md); pipelining also lets the server answer
// many calls per read and per write.
//
// Answers come back in request order, so one slow call delays the answers queued behind it on its
// connection: a call goes to an idle connection first, opens a new one while there are fewer than
// maxConnections, and only then joins the shortest queue.
//
// Failures: a refused or dropped connection fails its calls with a ConnectionLost error (which the
// Connect layer reports as Unavailable). Requests a server never read — those behind an answer
// that said `connection: close` — are sent again on another connection. A caller that gives up on
// a call (cancellation, deadline) gets its rejection at once; the connection is closed as soon as
// nothing else is waiting on it, which tells the server to stop working on the call.
import type { Socket } from "bun";
import { type BodyReader, CRLF, chunkedBody, eofBody, HEAD_END, lengthBody, readBody, readFields } from "./http1-framing.ts";

export type Http1Response = {
  status: number;
  /** headers are the response's header fields in order, names lower-cased; shared between answers, so read-only. */
  headers: [string, string][];
  body: Uint8Array;
};

export type Http1ClientOptions = {
  /** maxConnections per origin (default 4). */
  maxConnections?: number;
  /** idleSeconds closes a connection nothing has used for this long (default 4: under the common 5 s server keep-alive). */
  idleSeconds?: number;
};

export type Http1Client = {
  /**
   * send POSTs body to target (path and query) with headers. It rejects with ConnectionLost, with
   * the signal's reason when it aborts, or with DeadlineReached after timeoutMs.
   */
  send(target: string, headers: Headers, body: Uint8Array, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Http1Response>;
  close(): void;
};

/** DeadlineReached: the call's timeoutMs passed without an answer. */
export class DeadlineReached extends Error {
  constructor() {
    super("the operation timed out");
    this.name = "DeadlineReached";
  }
}

/** ConnectionLost: the connection failed before the answer was read (refused, reset, closed early). */
export class ConnectionLost extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionLost";
  }
}

type Call = {
  head: string;
  body: Uint8Array;
  resolve: (response: Http1Response) => void;
  reject: (error: unknown) => void;
  /** abandoned: the caller gave up; the answer is read and dropped. */
  abandoned: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** expires is the performance.now() at which the call gives up (Infinity: never). */
  expires: number;
  /** conn is the connection the call was queued on. */
  conn: Conn | undefined;
};

type Conn = {
  socket: Socket<Conn> | undefined;
  /** queue holds the calls written or about to be, in order; their answers come in this order. */
  queue: Call[];
  /** outgoing: calls not written yet (from the end of queue). */
  outgoing: Call[];
  unsent: Uint8Array | undefined;
  buffer: Buffer | undefined;
  parser: Parser | undefined;
  closed: boolean;
  /** draining: takes no new calls (a caller gave up on one here); closes once its queue is empty. */
  draining: boolean;
  /** idleSince is when its queue last emptied (Infinity while it has calls). */
  idleSince: number;
};

type Parser = {
  status: number;
  headers: [string, string][];
  close: boolean;
  body: BodyReader;
  parts: Uint8Array[];
};

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;
const SKIP = new Set(["host", "content-length", "connection", "transfer-encoding", "keep-alive"]);
const MAX_HEAD_BYTES = 64 * 1024;
// Deadlines are checked this often by one timer per client, not a timer per call (≈ 3 µs a call).
const SWEEP_MS = 10;
const IDLE_CHECK_MS = 250;

/** fieldLines writes a Headers' fields as head lines: Bun's toJSON (a plain object; repeated values
 * joined, set-cookie as an array) is twice as fast as forEach. */
function fieldLines(headers: Headers): string {
  let lines = "";
  const json = headers.toJSON();
  for (const key in json) {
    if (SKIP.has(key)) continue;
    const value = json[key] as string | string[];
    if (typeof value === "string") lines += `${key}: ${value}\r\n`;
    else for (const one of value) lines += `${key}: ${one}\r\n`;
  }
  return lines;
}

/** createHttp1Client sends requests to http://host:port. */
export function createHttp1Client(host: string, port: number, options: Http1ClientOptions = {}): Http1Client {
  const maxConnections = options.maxConnections ?? 4;
  const idle = options.idleSeconds ?? 4;
  const hostHeader = `host: ${host.includes(":") ? `[${host}]` : host}:${port}\r\n`;
  const conns: Conn[] = [];
  let closed = false;

  // Calls with a deadline; a timer runs while there are any.
  const timed = new Set<Call>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const sweep = () => {
    const now = performance.now();
    for (const call of timed) if (call.expires <= now) giveUp(call, new DeadlineReached());
    if (timed.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  // Connections nothing used for `idle` seconds close (under a server's keep-alive limit, so a
  // request never meets a connection the server is closing); the timer runs while any are open.
  let idleTimer: ReturnType<typeof setInterval> | undefined;
  const closeIdle = () => {
    const limit = performance.now() - idle * 1000;
    for (const conn of [...conns]) {
      if (conn.queue.length === 0 && conn.idleSince <= limit) retire(conn);
    }
    if (conns.length === 0) {
      clearInterval(idleTimer);
      idleTimer = undefined;
    }
  };

  const pending = new Set<Conn>();
  let scheduled = false;
  const flushAll = () => {
    scheduled = false;
    for (const conn of pending) flush(conn);
    pending.clear();
  };

  function pick(): Conn {
    let best: Conn | undefined;
    for (const conn of conns) {
      if (conn.draining || conn.closed) continue;
      if (conn.queue.length === 0) return conn;
      if (!best || conn.queue.length < best.queue.length) best = conn;
    }
    if (best && conns.length >= maxConnections) return best;
    return open();
  }

  function open(): Conn {
    const conn: Conn = {
      socket: undefined,
      queue: [],
      outgoing: [],
      unsent: undefined,
      buffer: undefined,
      parser: undefined,
      closed: false,
      draining: false,
      idleSince: Number.POSITIVE_INFINITY,
    };
    conns.push(conn);
    Bun.connect<Conn>({
      hostname: host,
      port,
      data: conn,
      socket: {
        open(socket) {
          socket.setNoDelay(true);
          conn.socket = socket;
          flush(conn);
        },
        data: (_, chunk) => onData(conn, chunk),
        drain(socket) {
          const unsent = conn.unsent;
          if (!unsent) return;
          conn.unsent = undefined;
          write(conn, socket, unsent);
          if (!conn.unsent) flush(conn);
        },
        close: (_, error) => lost(conn, error),
        end: (socket) => void socket.end(),
        error: (_, error) => lost(conn, error),
        connectError: (_, error) => lost(conn, error),
      },
    }).catch((error: unknown) => lost(conn, error));
    return conn;
  }

  function remove(conn: Conn) {
    const at = conns.indexOf(conn);
    if (at >= 0) conns.splice(at, 1);
    pending.delete(conn);
  }

  /** retire closes a connection this client is done with (idle, drained, or told to close). */
  function retire(conn: Conn) {
    remove(conn);
    conn.closed = true;
    conn.socket?.end();
  }

  /** lost fails the calls waiting on a connection that closed: the peer may have started them. */
  function lost(conn: Conn, error?: Error | unknown) {
    if (conn.closed) return;
    conn.closed = true;
    remove(conn);
    // An answer read to the end of the connection ends here.
    if (conn.parser?.body.kind === "eof") complete(conn);
    const reason =
      error instanceof Error
        ? `connection to ${host}:${port} failed: ${error.message}`
        : `connection to ${host}:${port} closed before the answer`;
    const calls = conn.queue;
    conn.queue = [];
    conn.outgoing = [];
    for (const call of calls) fail(call, new ConnectionLost(reason, { cause: error }));
  }

  /** done: the call is answered or failed; nothing should act on it any more. */
  function done(call: Call) {
    call.abandoned = true;
    if (call.onAbort) call.signal?.removeEventListener("abort", call.onAbort);
    if (call.expires !== Number.POSITIVE_INFINITY) timed.delete(call);
  }

  function fail(call: Call, error: unknown) {
    if (call.abandoned) return;
    done(call);
    call.reject(error);
  }

  /** giveUp fails a call the caller stopped waiting for; the server hears of it when its connection closes. */
  function giveUp(call: Call, reason: unknown) {
    if (call.abandoned) return;
    fail(call, reason);
    const conn = call.conn;
    if (!conn || conn.closed) return;
    const unsent = conn.outgoing.indexOf(call);
    if (unsent >= 0) {
      // Not written yet: it never reaches the server.
      conn.outgoing.splice(unsent, 1);
      conn.queue.splice(conn.queue.indexOf(call), 1);
      return settle(conn);
    }
    // Other calls on the connection finish first.
    conn.draining = true;
    settle(conn);
  }

  function enqueue(call: Call) {
    const conn = pick();
    call.conn = conn;
    conn.queue.push(call);
    conn.outgoing.push(call);
    conn.idleSince = Number.POSITIVE_INFINITY;
    pending.add(conn);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushAll);
    }
  }

  function flush(conn: Conn) {
    const socket = conn.socket;
    if (!socket || conn.closed || conn.unsent || conn.outgoing.length === 0) return;
    // One buffer for every call waiting: heads are ASCII (Headers allows no more), bodies bytes.
    let size = 0;
    for (const call of conn.outgoing) size += call.head.length + call.body.length;
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    for (const call of conn.outgoing) {
      at += bytes.write(call.head, at, "latin1");
      bytes.set(call.body, at);
      at += call.body.length;
    }
    conn.outgoing = [];
    write(conn, socket, bytes);
  }

  function write(conn: Conn, socket: Socket<Conn>, bytes: Uint8Array) {
    const sent = socket.write(bytes);
    if (sent >= 0 && sent < bytes.length) conn.unsent = bytes.subarray(sent);
  }

  /** complete hands the parsed answer to the first call in the queue. */
  function complete(conn: Conn) {
    const parser = conn.parser!;
    conn.parser = undefined;
    const call = conn.queue.shift();
    if (call) {
      if (!call.abandoned) {
        done(call);
        call.resolve({ status: parser.status, headers: parser.headers, body: join(parser.parts) });
      }
    }
    if (parser.close) {
      // The server reads nothing after this answer: what was sent behind it goes again elsewhere.
      const unread = conn.queue;
      conn.queue = [];
      conn.outgoing = [];
      retire(conn);
      for (const retry of unread) if (!retry.abandoned) enqueue(retry);
      return;
    }
    settle(conn);
  }

  /** settle closes a draining connection, or marks it idle, once nothing waits on it. */
  function settle(conn: Conn) {
    if (conn.queue.some((call) => !call.abandoned)) return;
    if (conn.draining) {
      // Whatever is still queued was given up on: its answers are not waited for.
      conn.queue = [];
      retire(conn);
    } else if (conn.queue.length === 0) {
      conn.idleSince = performance.now();
      // Bun's own socket timeouts tick every few seconds; a timer keeps the idle limit exact.
      idleTimer ??= setInterval(closeIdle, IDLE_CHECK_MS).unref();
    }
  }

  function onData(conn: Conn, chunk: Buffer) {
    let data = chunk;
    if (conn.buffer) {
      data = Buffer.concat([conn.buffer, chunk]);
      conn.buffer = undefined;
    }
    let offset = 0;
    while (offset < data.length && !conn.closed) {
      if (!conn.parser) {
        const end = data.indexOf(HEAD_END, offset);
        if (end < 0) {
          if (data.length - offset > MAX_HEAD_BYTES) return broken(conn, "an answer's head is too long");
          break;
        }
        const parsed = parseHead(data.toString("latin1", offset, end));
        offset = end + 4;
        if (!parsed) return broken(conn, "a malformed answer");
        if (parsed.status < 200) continue; // 100 Continue and other interim answers
        conn.parser = parsed;
      }
      const parser = conn.parser;
      const next = readBody(parser.body, data, offset, (start, end) => parser.parts.push(copy(data, start, end)));
      if (next < 0) return broken(conn, "malformed chunked framing");
      offset = next;
      if (!parser.body.done) break;
      complete(conn);
    }
    if (offset < data.length && !conn.closed) conn.buffer = Buffer.from(data.subarray(offset));
  }

  function broken(conn: Conn, why: string) {
    conn.socket?.terminate();
    lost(conn, new Error(why));
  }

  return {
    send(target, headers, body, options = {}) {
      const { signal, timeoutMs } = options;
      if (closed) return Promise.reject(new ConnectionLost("the client is closed"));
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.reject(new DeadlineReached());
      const head = `POST ${target} HTTP/1.1\r\n${hostHeader}${fieldLines(headers)}content-length: ${body.length}\r\n\r\n`;
      const { promise, resolve, reject } = Promise.withResolvers<Http1Response>();
      const expires = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
      const call: Call = { head, body, resolve, reject, abandoned: false, signal, onAbort: undefined, expires, conn: undefined };
      if (signal) {
        call.onAbort = () => giveUp(call, signal.reason);
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      if (timeoutMs !== undefined) {
        timed.add(call);
        sweeper ??= setInterval(sweep, SWEEP_MS).unref();
      }
      enqueue(call);
      return promise;
    },
    close() {
      closed = true;
      for (const conn of [...conns]) {
        conn.socket?.end();
        lost(conn);
      }
    },
  };
}

// A service answers most calls with the same head: those parse once (the parsed fields are only read).
const heads = new Map<string, Omit<Parser, "parts" | "body"> & { length: number | undefined; chunked: boolean }>();
const MAX_HEADS = 256;

function parseHead(text: string): Parser | undefined {
  let head = heads.get(text);
  if (!head) {
    head = parseFields(text);
    if (!head) return undefined;
    if (heads.size >= MAX_HEADS) heads.clear();
    heads.set(text, head);
  }
  const { status, length, chunked } = head;
  const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
  return {
    status,
    headers: head.headers,
    close: head.close,
    body: bodyless ? lengthBody(0) : chunked ? chunkedBody() : length !== undefined ? lengthBody(length) : eofBody(),
    parts: [],
  };
}

function parseFields(text: string) {
  const lines = text.split(CRLF);
  const line = STATUS_LINE.exec(lines[0]!);
  const fields = line ? readFields(lines) : undefined;
  if (!line || !fields) return undefined;
  return {
    status: Number(line[1]),
    // Names lower-cased, as Headers has them: the Connect layer looks for `trailer-` ones.
    headers: fields.pairs.map(([name, value]): [string, string] => [name.toLowerCase(), value]),
    close: /\bclose\b/.test(fields.connection),
    length: fields.length === undefined ? undefined : Number(fields.length),
    chunked: fields.chunked,
  };
}

/** copy takes bytes out of the socket's buffer (it may be reused) as a plain Uint8Array: protobuf's
 * reader slices the body per string field, and a Buffer's subarray costs more. */
function copy(data: Buffer, start: number, end: number): Uint8Array {
  const bytes = new Uint8Array(end - start);
  bytes.set(data.subarray(start, end));
  return bytes;
}

/** join puts a body's pieces together. */
function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
