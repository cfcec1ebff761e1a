// The outcome of a call, for the interceptors that record it (metrics, the RPC log, spans): its
// code name (`ok`, `not_found`, …, as the Connect protocol spells them) and how long it took.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

/** observed runs call and reports its code and duration in seconds, whether it answers or throws. */
export async function observed<T>(call: () => Promise<T>, done: (code: string, seconds: number) => void): Promise<T> {
  const start = performance.now();
  let code = "ok";
  try {
    return await call();
  } catch (error) {
    code = codeToString(ConnectError.from(error).code ?? Code.Unknown);
    throw error;
  } finally {
    done(code, (performance.now() - start) / 1000);
  }
}
