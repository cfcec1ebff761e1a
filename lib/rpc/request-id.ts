// X-Request-Id across the hop: the client side passes the current request's id as `x-request-id`
// metadata, the server side serves the call inside that request (or a fresh one), so a service's
// log lines carry the id the gateway answered with.
import type { Interceptor } from "@connectrpc/connect";
import { currentRequest, withRequest } from "../request-context.ts";

export const REQUEST_ID_HEADER = "x-request-id";
// What the gateway accepts from clients too (hono's requestId: up to 128 visible ASCII characters).
const VALID = /^[\w\-.:/+=@]{1,128}$/;

/** passRequestId is the client interceptor that sends the current request's id. */
export const passRequestId: Interceptor = (next) => (req) => {
  const context = currentRequest();
  if (context && !req.header.has(REQUEST_ID_HEADER)) req.header.set(REQUEST_ID_HEADER, context.requestId);
  return next(req);
};

/** acceptRequestId is the server interceptor that serves each call inside its caller's request. */
export const acceptRequestId: Interceptor = (next) => (req) => {
  const given = req.header.get(REQUEST_ID_HEADER);
  const requestId = given && VALID.test(given) ? given : crypto.randomUUID();
  return withRequest({ requestId }, () => next(req));
};
