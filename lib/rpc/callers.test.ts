import { expect, test } from "bun:test";
import { Code, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { codeOf } from "../../test/rpc.ts";
import { ACCESS, authorizeCallers, type Caller, callersOf, sendCredential } from "./callers.ts";
import { errorInterceptor } from "./errors.ts";
import { inProcessTransport } from "./in-process.ts";

const SECRETS = { gateway: "g".repeat(40), "auth-service": "a".repeat(40), operator: "o".repeat(40) };
const credentials = {
  gateway: [SECRETS.gateway],
  "auth-service": [SECRETS["auth-service"], "previous-auth-secret-0123456789abcdef"],
  operator: [SECRETS.operator],
};

// A UserService whose every method answers: what a test sees is only the access check.
const routes = (router: Parameters<Parameters<typeof createRouterTransport>[0]>[0]) => {
  router.service(UserService, {
    getUser: () => ({ id: "x" }),
    getUserByEmail: () => ({ id: "x" }),
    listUsers: () => ({}),
    createUser: () => ({ id: "x" }),
    updateUser: () => ({ id: "x" }),
    deleteUser: () => ({ success: true }),
    restoreUser: () => ({ id: "x" }),
    hardDeleteUser: () => ({ success: true }),
    getUserByEmailInternal: () => ({ id: "x" }),
    getUserByEmailInternalWithDeleted: () => ({ id: "x" }),
  });
  router.rpc(Health.method.check, () => ({ status: ServingStatus.SERVING }));
};
const over = (interceptors: Interceptor[]) =>
  createRouterTransport(routes, {
    router: { interceptors: [errorInterceptor(), authorizeCallers(credentials)] },
    transport: { interceptors },
  });
const callAll = async (transport: ReturnType<typeof over>) => {
  const client = createClient(UserService, transport);
  const results: Record<string, string> = {};
  for (const method of UserService.methods) {
    const call = client[method.localName as keyof typeof client] as (req: object) => Promise<unknown>;
    const code = await codeOf(call({}));
    results[method.localName] = code === "ok" ? "ok" : Code[code];
  }
  return results;
};

test("ACCESS names exactly the methods of the services it guards", () => {
  expect(Object.keys(ACCESS).sort()).toEqual([AuthService.typeName, UserService.typeName].sort());
  expect(Object.keys(ACCESS[UserService.typeName as "user.v1.UserService"]).sort()).toEqual(
    UserService.methods.map((m) => m.localName).sort(),
  );
  expect(Object.keys(ACCESS[AuthService.typeName as "auth.v1.AuthService"]).sort()).toEqual(
    AuthService.methods.map((m) => m.localName).sort(),
  );
});

test("callersOf lists who a service accepts credentials from", () => {
  expect(callersOf(UserService)).toEqual(["gateway", "auth-service", "operator"]);
  expect(callersOf(AuthService)).toEqual(["gateway", "operator"]);
  expect(callersOf(Health)).toEqual([]);
});

test("each caller gets exactly its methods; the rest are PermissionDenied", async () => {
  const table = ACCESS["user.v1.UserService"] as Record<string, readonly Caller[]>;
  for (const caller of ["gateway", "auth-service", "operator"] as const) {
    const results = await callAll(over([sendCredential(SECRETS[caller])]));
    const expected = Object.fromEntries(
      Object.entries(table).map(([name, who]) => [name, who.includes(caller) ? "ok" : "PermissionDenied"]),
    );
    expect(results).toEqual(expected);
  }
  expect(Object.values(await callAll(over([sendCredential(SECRETS.operator)])))).not.toContain("PermissionDenied");
});

test("no credential, an unknown one or a malformed header is Unauthenticated on every method", async () => {
  const malformed: Interceptor = (next) => (req) => {
    req.header.set("authorization", SECRETS.operator); // no "Bearer "
    return next(req);
  };
  for (const interceptors of [[], [sendCredential("not-a-known-secret")], [sendCredential(`${SECRETS.operator}x`)], [malformed]]) {
    expect(new Set(Object.values(await callAll(over(interceptors))))).toEqual(new Set(["Unauthenticated"]));
  }
});

test("a previous secret is accepted during a rotation", async () => {
  const client = createClient(UserService, over([sendCredential("previous-auth-secret-0123456789abcdef")]));
  expect(await codeOf(client.getUserByEmailInternal({ email: "a@example.com" }))).toBe("ok");
});

test("health stays open without a credential", async () => {
  expect((await createClient(Health, over([])).check({})).status).toBe(ServingStatus.SERVING);
});

test("an in-process caller is checked like a credential, and a header can't override it", async () => {
  const authorize = authorizeCallers(credentials);
  const asGateway = inProcessTransport(routes, {
    caller: "gateway",
    interceptors: [authorize],
    clientInterceptors: [sendCredential(SECRETS.operator)],
  });
  const client = createClient(UserService, asGateway);
  expect(await codeOf(client.getUser({ id: "x" }))).toBe("ok");
  expect(await codeOf(client.hardDeleteUser({ id: "x" }))).toBe(Code.PermissionDenied);
  const anonymous = createClient(UserService, inProcessTransport(routes, { interceptors: [authorize] }));
  expect(await codeOf(anonymous.getUser({ id: "x" }))).toBe(Code.Unauthenticated);
});
