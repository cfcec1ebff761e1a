// The service credential that guards internal RPCs: the auth service sends it as the request
// metadata `x-internal-token`; the gateway never has it.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.ts";

export const SERVICE_TOKEN_HEADER = "x-internal-token";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** checkServiceToken returns a guard that throws unless headers carry the expected credential. */
export function checkServiceToken(expected: string): (headers: Headers) => void {
  const expectedDigest = digest(expected);
  return (headers) => {
    const presented = headers.get(SERVICE_TOKEN_HEADER);
    if (!presented) throw new UnauthenticatedError(`this method needs the service credential (${SERVICE_TOKEN_HEADER})`);
    // Comparing fixed-length digests keeps the comparison constant-time whatever the input length.
    if (!timingSafeEqual(digest(presented), expectedDigest)) throw new PermissionDeniedError("the service credential is not valid");
  };
}

/** sendServiceToken is a client interceptor that attaches the credential to every call. */
export function sendServiceToken(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, token);
    return next(req);
  };
}
