// A ghz-like load loop: `connections` concurrent callers of user.v1.UserService/GetUser over gRPC
// (connect-node, h2c, one HTTP/2 connection as gRPC clients use) for SECONDS.
// Usage: GATEWAY_TOKEN=… bun bench/grpc-load.ts <base url> <user id> <concurrency> <seconds>
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { sendCredential } from "../lib/rpc/callers.ts";
import { callLoop, percentile, printResult } from "./result.ts";

const [baseUrl = "http://127.0.0.1:50052", id = "", concurrency = "50", seconds = "5"] = process.argv.slice(2);
const interceptors = [sendCredential(process.env.GATEWAY_TOKEN ?? "")];
const users = createClient(UserService, createGrpcTransport({ baseUrl, defaultTimeoutMs: 10_000, interceptors }));
await users.getUser({ id }); // connect, and fail loudly if the user isn't there

const start = performance.now();
const { latencies, errors } = await callLoop(() => users.getUser({ id }), Number(concurrency), Number(seconds) * 1000);
printResult({
  requests: latencies.length + errors,
  durationUs: Math.round((performance.now() - start) * 1000),
  errors,
  p50Us: percentile(latencies, 50) * 1000,
  p99Us: percentile(latencies, 99) * 1000,
});
process.exit(0);
