// The reference's ValidatedJson, before validation: a request body must be JSON (415 otherwise)
// and within maxBytes (413), checked before buffering — by Content-Length when sent, else while
// streaming. Malformed JSON (400) and failed validation (422) follow in the route's validator.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ProblemError } from "../problem.ts";

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** jsonBody enforces the content type and size of request bodies. */
export function jsonBody(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ProblemError(413, `the request body is larger than ${maxBytes} bytes`);
    },
  });
  return async function jsonBody(c, next) {
    const length = c.req.header("content-length");
    const hasBody = c.req.raw.body !== null && (length === undefined ? c.req.header("transfer-encoding") !== undefined : length !== "0");
    if (!hasBody) return next();
    const type = c.req.header("content-type");
    if (!type || !JSON_TYPE.test(type)) {
      throw new ProblemError(
        415,
        `the request body must be application/json${type ? `, not ${type.split(";")[0]}` : " (Content-Type is missing)"}`,
      );
    }
    return limit(c, next);
  };
}
