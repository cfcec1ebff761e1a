// What binding a port can fail with, shared by the RPC servers and the gateway's HTTP server.

/** PortInUseError means another process already listens on the requested address. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(`port ${port} on ${host} is already in use`, options);
    this.name = "PortInUseError";
  }
}
