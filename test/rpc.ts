// Assertion helpers for RPC tests.
import { type Code, ConnectError } from "@connectrpc/connect";

/** codeOf resolves to "ok" or the Connect code the call failed with. */
export async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

/** errorOf resolves to the ConnectError of a call that must fail. */
export async function errorOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}
