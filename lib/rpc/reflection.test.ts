import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import type { RpcServer } from "./server.ts";
import { grpcJsClient, grpcJsMethod } from "../../test/grpc-js.ts";
import { startTestServer, TEST_USER } from "../../test/fixture-user-service.ts";

const REPO_ROOT = join(import.meta.dir, "../..");

/** bufCurl runs the project's pinned buf (a bare bunx buf elsewhere is another package). */
async function bufCurl(...args: string[]) {
  const proc = Bun.spawn(["bunx", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", ...args], {
    cwd: REPO_ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

const SERVICES = [
  "auth.v1.AuthService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "user.v1.UserService",
];

let server: RpcServer;
beforeAll(async () => (server = await startTestServer({ services: [UserService, AuthService] })));
afterAll(() => server.close());

describe("buf curl --reflect", () => {
  for (const protocol of ["grpc-v1", "grpc-v1alpha"]) {
    test(`lists every service (${protocol})`, async () => {
      const { stdout, stderr, code } = await bufCurl("--reflect-protocol", protocol, "--list-services", server.url);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout.trim().split("\n").sort()).toEqual(SERVICES);
    });

    test(`calls GetUser through reflection (${protocol})`, async () => {
      const url = `${server.url}/user.v1.UserService/GetUser`;
      const { stdout, code } = await bufCurl("--reflect-protocol", protocol, "-d", JSON.stringify({ id: TEST_USER.id }), url);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ id: TEST_USER.id, email: TEST_USER.email });
    });
  }
});

type ReflectionResponse = {
  messageResponse: string;
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  listServicesResponse?: { service: { name: string }[] };
  errorResponse?: { errorCode: number; errorMessage: string };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
};

/** reflect sends requests on one grpc-js ServerReflectionInfo stream, as grpcurl does. */
async function reflect(version: "v1" | "v1alpha", requests: object[]): Promise<ReflectionResponse[]> {
  const service = `grpc.reflection.${version}.ServerReflection`;
  const method = grpcJsMethod(`grpc/reflection/${version}/reflection.proto`, service, "ServerReflectionInfo");
  const client: grpc.Client = grpcJsClient(server.url);
  const stream = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
  const responses: ReflectionResponse[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (res: ReflectionResponse) => responses.push(res));
      stream.on("error", reject);
      stream.on("end", resolve);
      for (const req of requests) stream.write(req);
      stream.end();
    });
  } finally {
    client.close();
  }
  return responses;
}

const fileNames = (res: ReflectionResponse | undefined) =>
  res?.fileDescriptorResponse?.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);

describe("ServerReflectionInfo over grpc-js", () => {
  test("answers every request kind in order, with the file and its imports", async () => {
    const responses = await reflect("v1", [
      { listServices: "" },
      { fileContainingSymbol: "auth.v1.AuthService" },
      { fileContainingSymbol: "user.v1.UserService.GetUser" },
      { fileContainingSymbol: "user.v1.ListUsersRequest" },
      { fileContainingSymbol: "user.v1.UserState" },
      { fileContainingSymbol: "grpc.health.v1.HealthCheckResponse.ServingStatus" },
      { fileByFilename: "user/v1/user.proto" },
      { allExtensionNumbersOfType: "user.v1.UserResponse" },
    ]);
    expect(responses.map((r) => r.messageResponse)).toEqual([
      "listServicesResponse",
      ...Array(6).fill("fileDescriptorResponse"),
      "allExtensionNumbersResponse",
    ]);
    expect(responses[0]?.listServicesResponse?.service.map((s) => s.name).sort()).toEqual(SERVICES);
    expect(fileNames(responses[1])).toEqual(["auth/v1/auth.proto", "user/v1/user.proto"]);
    for (const i of [2, 3, 4, 6]) expect(fileNames(responses[i])).toEqual(["user/v1/user.proto"]);
    expect(fileNames(responses[5])).toEqual(["grpc/health/v1/health.proto"]);
    expect(responses[7]?.allExtensionNumbersResponse).toEqual({ baseTypeName: "user.v1.UserResponse", extensionNumber: [] });
  });

  test("answers unknown symbols and files with a NOT_FOUND error response (v1alpha too)", async () => {
    for (const version of ["v1", "v1alpha"] as const) {
      const responses = await reflect(version, [
        { fileContainingSymbol: "user.v1.Nope" },
        { fileByFilename: "nope.proto" },
        { fileContainingExtension: { containingType: "user.v1.UserResponse", extensionNumber: 100 } },
      ]);
      for (const res of responses) expect(res.errorResponse?.errorCode).toBe(5);
      expect(responses[0]?.errorResponse?.errorMessage).toContain("user.v1.Nope");
    }
  });
});
