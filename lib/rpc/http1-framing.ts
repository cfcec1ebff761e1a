// HTTP/1.1 message bodies as both ends of the internal hop read them: by content-length, chunked
// (RFC 9112 §7.1: sizes in hex, extensions and trailer fields read and dropped), or — answers only —
// to the end of the connection. One reader for the server's requests and the client's answers.

export const CRLF = "\r\n";
export const HEAD_END = Buffer.from("\r\n\r\n");

/** A body being read; done is set once it is whole. */
export type BodyReader = (
  | { kind: "length"; remaining: number }
  | { kind: "chunked"; state: "size" | "data" | "crlf" | "trailer"; remaining: number }
  | { kind: "eof" }
) & { done: boolean };

export const lengthBody = (length: number): BodyReader => ({ kind: "length", remaining: length, done: length === 0 });
export const chunkedBody = (): BodyReader => ({ kind: "chunked", state: "size", remaining: 0, done: false });
export const eofBody = (): BodyReader => ({ kind: "eof", done: false });

// A size or trailer line longer than this is not one: the framing is lost.
const MAX_LINE = 4096;
const CHUNK_SIZE = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?$/;

/**
 * readBody consumes body bytes from data at offset, handing each piece to take (a view into data:
 * copy what you keep), and returns where it stopped: the end of the body or of data, or -1 when the
 * chunked framing is broken. An unfinished size or trailer line is left unread for the next data.
 */
export function readBody(body: BodyReader, data: Buffer, offset: number, take: (start: number, end: number) => void): number {
  if (body.kind === "eof") {
    if (offset < data.length) take(offset, data.length);
    return data.length;
  }
  if (body.kind === "length") {
    const n = Math.min(body.remaining, data.length - offset);
    if (n > 0) take(offset, offset + n);
    body.remaining -= n;
    body.done = body.remaining === 0;
    return offset + n;
  }
  let at = offset;
  for (;;) {
    if (body.state === "data") {
      const n = Math.min(body.remaining, data.length - at);
      if (n > 0) take(at, at + n);
      body.remaining -= n;
      at += n;
      if (body.remaining > 0) return at;
      body.state = "crlf";
    }
    const end = data.indexOf(CRLF, at);
    if (end < 0) return data.length - at > MAX_LINE ? -1 : at;
    const line = data.toString("latin1", at, end);
    at = end + 2;
    if (body.state === "crlf") {
      if (line !== "") return -1;
      body.state = "size";
    } else if (body.state === "trailer") {
      if (line === "") {
        body.done = true;
        return at;
      }
    } else {
      const size = CHUNK_SIZE.exec(line);
      if (!size) return -1;
      body.remaining = Number.parseInt(size[1]!, 16);
      body.state = body.remaining === 0 ? "trailer" : "data";
    }
  }
}

/** HeadFields are a head's field lines as pairs, and the values its framing depends on. */
export type HeadFields = {
  /** pairs keep each name as sent, but for the framing fields below, which are lower-cased. */
  pairs: [string, string][];
  /** length is content-length as sent (digits only; the same value if repeated). */
  length: string | undefined;
  transferEncoding: boolean;
  /** chunked: the transfer codings end with chunked. */
  chunked: boolean;
  /** connection and expect are lower-cased ("" when absent). */
  connection: string;
  expect: string;
};

// content-length, transfer-encoding, connection, expect: only names of these lengths can be one.
const FRAMING_NAME_LENGTHS = new Set([14, 17, 10, 6]);
const LENGTH = /^\d{1,15}$/;
const CHUNKED_LAST = /(?:^|,)\s*chunked\s*$/i;

/** readFields reads a head's field lines (after the start line), or undefined when one is malformed. */
export function readFields(lines: string[]): HeadFields | undefined {
  const fields: HeadFields = { pairs: [], length: undefined, transferEncoding: false, chunked: false, connection: "", expect: "" };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    let name = line.slice(0, colon);
    // One slice for the value, without the whitespace around it (rather than a slice and a trim).
    let start = colon + 1;
    let end = line.length;
    while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
    while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
    const value = line.slice(start, end);
    // Other names are checked where they are used (the Headers constructor refuses a bad one).
    if (FRAMING_NAME_LENGTHS.has(name.length)) name = name.toLowerCase();
    switch (name) {
      case "content-length":
        if (!LENGTH.test(value) || (fields.length !== undefined && fields.length !== value)) return undefined;
        fields.length = value;
        break;
      case "transfer-encoding":
        fields.transferEncoding = true;
        fields.chunked = CHUNKED_LAST.test(value);
        break;
      case "connection":
        fields.connection = value.toLowerCase();
        break;
      case "expect":
        fields.expect = value.toLowerCase();
        break;
    }
    fields.pairs.push([name, value]);
  }
  return fields;
}
