// X-Request-Id: the client's id when it is one we accept (at most 128 characters of [A-Za-z0-9_=-],
// as hono's requestId middleware checks), else a fresh UUID. Every answer carries it back.
import type { Context } from "hono";

const MAX_LENGTH = 128;
const UNSAFE = /[^\w\-=]/;

/** requestIdOf is the id this request is known by. */
export function requestIdOf(c: Context): string {
  const sent = c.req.header("x-request-id");
  return sent && sent.length <= MAX_LENGTH && !UNSAFE.test(sent) ? sent : crypto.randomUUID();
}
