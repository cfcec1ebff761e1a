// @grpc/grpc-js helpers for the rpc tests: an independent gRPC implementation that reads the
// .proto files itself, so the tests don't only check connect against connect.
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

type Method = protoLoader.MethodDefinition<object, object, object, Record<string, unknown>>;

const PROTO_DIR = join(import.meta.dir, "../proto");

/** grpcJsMethod loads one method from proto/ with proto-loader (enums as names, oneofs named). */
export function grpcJsMethod(file: string, service: string, method: string): Method {
  const def = protoLoader.loadSync(file, { includeDirs: [PROTO_DIR], defaults: true, enums: String, oneofs: true });
  const methods = def[service] as protoLoader.ServiceDefinition | undefined;
  const found = methods?.[method];
  if (!found) throw new Error(`${service}/${method} not in ${file}`);
  return found as Method;
}

/** grpcJsClient creates a plaintext grpc-js client; close it after the test. */
export function grpcJsClient(url: string): grpc.Client {
  return new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
}

export type UnaryResult = { response: Record<string, unknown>; header: grpc.Metadata; trailer: grpc.Metadata };

/** grpcJsUnary makes a unary call and resolves with the response and both metadata sets. */
export function grpcJsUnary(
  client: grpc.Client,
  method: Method,
  request: object,
  options: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<UnaryResult> {
  return new Promise((resolve, reject) => {
    let header = new grpc.Metadata();
    let trailer = new grpc.Metadata();
    const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      options.metadata ?? new grpc.Metadata(),
      { deadline },
      (err, response) => {
        if (err || !response) reject(err);
        // The callback runs before "status" for grpc-js; wait a tick so the trailer is in.
        else setImmediate(() => resolve({ response, header, trailer }));
      },
    );
    call.on("metadata", (md) => (header = md));
    call.on("status", (status) => (trailer = status.metadata));
  });
}

/** grpcJsStream opens a server stream; read it with "data", "status" and "error" events. */
export function grpcJsStream(client: grpc.Client, method: Method, request: object) {
  return client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request);
}
