// The address of the connection a call arrived on, for the services' own per-address limits. The
// servers set it from the socket (lib/rpc/server.ts, connect-listener.ts); no request can set it.
import { createContextKey } from "@connectrpc/connect";

/** peerKey carries the caller's socket address ("" in-process, where there is no connection). */
export const peerKey = createContextKey<string>("", { description: "peer address" });
