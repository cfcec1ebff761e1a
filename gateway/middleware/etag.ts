// Strong ETags on successful GET/HEAD answers (RFC 9110 §8.8.3, §13.1.2): the SHA-1 of the body,
// and 304 Not Modified when If-None-Match names it. hono's etag() does the same through the body as a
// stream (clone, reader, chunked async digests, hex by Array.map); reading the clone's bytes at once
// and hashing synchronously costs a fraction of that per request (BENCHMARKS.md).
import type { MiddlewareHandler } from "hono";

// What a 304 keeps of the 200 it stands for (RFC 9110 §15.4.5), plus what describes the exchange.
const RETAINED_304 = new Set(["cache-control", "content-location", "date", "etag", "expires", "vary", "x-request-id"]);

/** matches applies If-None-Match's weak comparison: "*" or any listed tag, W/ ignored. */
function matches(ifNoneMatch: string | undefined, tag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === tag);
}

/** etag sets ETag on 200 answers to GET and HEAD and turns a matching conditional request into 304. */
export const etag: MiddlewareHandler = async function etag(c, next) {
  await next();
  const method = c.req.method;
  const res = c.res;
  if ((method !== "GET" && method !== "HEAD") || res.status !== 200 || !res.body || res.headers.has("ETag")) return;
  const tag = `"${Bun.CryptoHasher.hash("sha1", await res.clone().arrayBuffer(), "hex")}"`;
  if (!matches(c.req.header("If-None-Match"), tag)) return void res.headers.set("ETag", tag);
  await res.body.cancel();
  c.res = new Response(null, { status: 304 }); // hono copies the 200's headers onto it: keep only these
  for (const name of [...c.res.headers.keys()]) if (!RETAINED_304.has(name)) c.res.headers.delete(name);
  c.res.headers.set("ETag", tag);
};
