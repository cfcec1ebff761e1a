// gRPC server reflection (v1 and v1alpha), so grpcurl and buf curl can call a service without its protos.
import { createRegistry, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";

/** ReflectionRequest is the part of a v1 or v1alpha ServerReflectionRequest we read. */
type ReflectionRequest = {
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
};

/** ReflectionAnswer is a response oneof that fits both the v1 and v1alpha messages. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * reflectionRoutes serves gRPC server reflection (v1 and v1alpha) for `services`, the
 * reflection services themselves, and every file they depend on.
 */
export function reflectionRoutes(services: DescService[]): (router: ConnectRouter) => void {
  const listed = [...services, v1.ServerReflection, v1alpha.ServerReflection];
  const names = [...new Set(listed.map((s) => s.typeName))];
  const files = new Map<string, DescFile>();
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dependency of file.dependencies) addFile(dependency);
  };
  for (const s of listed) addFile(s.file);
  const registry = createRegistry(...files.values());

  // Clients (buf curl, grpcurl) resolve imports themselves only if they get them, so every
  // answer carries the file and its transitive dependencies, the requested file first.
  const withDependencies = (file: DescFile): ReflectionAnswer => {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    const fileDescriptorProto = [...seen].map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
  };

  const notFound = (errorMessage: string): ReflectionAnswer => ({
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage },
  });

  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const desc = registry.get(symbol);
    if (desc) return desc.file;
    // Members (methods, fields, enum values) are not registry entries: look up their parent.
    const dot = symbol.lastIndexOf(".");
    const parent = registry.get(symbol.slice(0, dot));
    const member = symbol.slice(dot + 1);
    const found =
      (parent?.kind === "service" && parent.methods.some((m) => m.name === member)) ||
      (parent?.kind === "message" && parent.fields.some((f) => f.name === member)) ||
      (parent?.kind === "enum" && parent.values.some((v) => v.name === member));
    return found ? parent?.file : undefined;
  };

  const answer = ({ messageRequest: req }: ReflectionRequest): ReflectionAnswer => {
    switch (req.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: names.map((name) => ({ name })) } };
      case "fileByFilename": {
        const file = files.get(req.value);
        return file ? withDependencies(file) : notFound(`file "${req.value}" not found`);
      }
      case "fileContainingSymbol": {
        const file = fileOfSymbol(req.value);
        return file ? withDependencies(file) : notFound(`symbol "${req.value}" not found`);
      }
      case "fileContainingExtension": {
        const message = registry.getMessage(req.value.containingType);
        const ext = message && registry.getExtensionFor(message, req.value.extensionNumber);
        return ext
          ? withDependencies(ext.file)
          : notFound(`extension ${req.value.extensionNumber} of "${req.value.containingType}" not found`);
      }
      case "allExtensionNumbersOfType": {
        const message = registry.getMessage(req.value);
        if (!message) return notFound(`type "${req.value}" not found`);
        const extensionNumber = [...registry].flatMap((d) =>
          d.kind === "extension" && d.extendee.typeName === message.typeName ? [d.number] : [],
        );
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: message.typeName, extensionNumber } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" } };
    }
  };

  return (router) => {
    router.service(v1.ServerReflection, {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
      },
    });
    router.service(v1alpha.ServerReflection, {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
      },
    });
  };
}
