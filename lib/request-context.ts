// The request a piece of work belongs to, carried across awaits (AsyncLocalStorage): every log line
// written while a request is served names it, and RPC clients pass its id on to the services
// (lib/rpc/request-id.ts), whose log lines then name the same request.
import { AsyncLocalStorage } from "node:async_hooks";

export type RequestContext = { requestId: string };

const storage = new AsyncLocalStorage<RequestContext>();

/** withRequest runs fn, and everything it awaits, as part of the request. */
export function withRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** currentRequest is the request being served here, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
