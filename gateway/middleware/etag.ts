// Strong ETags on successful GET/HEAD answers (RFC 9110 §8.8.3, §13.1.2): the SHA-1 of the body,
// and 304 Not Modified when If-None-Match names it. hono's etag() does the same through the body as a
// stream (clone, reader, chunked async digests, hex by Array.map).
//
// Most answers here are c.json(...): for those the tag is the hash of the JSON text as it is made,
// and the answer is never read back. Reading a made answer's body (and making it again) was most
// of this middleware's cost, ≈ 10 % of GET /users/me's CPU under load (BENCHMARKS.md); any other
// answer still is read once, hashed and made again over the same bytes.
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

// What a 304 keeps of the 200 it stands for (RFC 9110 §15.4.5), plus what describes the exchange.
const RETAINED_304 = new Set(["cache-control", "content-location", "date", "etag", "expires", "vary", "x-request-id"]);

/** matches applies If-None-Match's weak comparison: "*" or any listed tag, W/ ignored. */
function matches(ifNoneMatch: string | undefined, tag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === tag);
}

const tagOf = (body: string | Uint8Array) => `"${Bun.CryptoHasher.hash("sha1", body, "hex")}"`;

/** etag sets ETag on 200 answers to GET and HEAD and turns a matching conditional request into 304. */
export const etag: MiddlewareHandler = async function etag(c, next) {
  const method = c.req.method;
  if (method !== "GET" && method !== "HEAD") return next();
  const made = hashJson(c);
  await next();
  const res = c.res;
  if (res.status !== 200 || res.headers.has("ETag")) return;
  let tag = made.res === res ? made.tag : undefined;
  if (tag === undefined) {
    // Not the answer c.json made: read it, and answer with the same bytes (as a Blob, which keeps
    // the type a body implies when no Content-Type was set, e.g. text/plain for a string). Only
    // here is res.body read: it makes a ReadableStream of the body.
    if (!res.body) return;
    const blob = await res.blob();
    tag = tagOf(await blob.bytes());
    c.res = undefined; // hono would copy the old answer's headers onto the new one: it has them already
    c.res = new Response(blob, res);
  }
  if (!matches(c.req.header("If-None-Match"), tag)) return void c.res.headers.set("ETag", tag);
  await c.res.body?.cancel();
  c.res = new Response(null, { status: 304 }); // hono copies the 200's headers onto it: keep only these
  for (const name of [...c.res.headers.keys()]) if (!RETAINED_304.has(name)) c.res.headers.delete(name);
  c.res.headers.set("ETag", tag);
};

/**
 * hashJson makes this request's c.json remember the SHA-1 of the text it sends: c.json is an own
 * field of hono's Context, and this one stringifies once, hashes, and answers as hono's does
 * (c.body with application/json unless the caller set a content type).
 */
function hashJson(c: Context): { res?: Response; tag?: string } {
  const made: { res?: Response; tag?: string } = {};
  c.json = ((object: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>) => {
    const text = JSON.stringify(object);
    made.tag = tagOf(text);
    made.res = c.body(text, arg as ContentfulStatusCode, { "Content-Type": "application/json", ...headers });
    return made.res;
  }) as Context["json"];
  return made;
}
