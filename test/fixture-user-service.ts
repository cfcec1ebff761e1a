// A throwaway UserService for the rpc library's tests: no database, one fixed user.
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { currentRequest } from "../lib/request-context.ts";
import { startRpcServer, type RpcServerOptions } from "../lib/rpc/server.ts";

export const TEST_USER = {
  id: "0b7e4c2a-1f3d-4e5a-9b6c-7d8e9f0a1b2c",
  email: "ada@example.com",
  name: "Ada Lovelace",
  role: "user",
  createdAt: "2024-01-01T00:00:00.000Z",
  updatedAt: "2024-01-01T00:00:00.000Z",
};

/** slowCalls counts ListUsers calls that have started, so a test can act mid-call. */
export const slowCalls = { started: 0 };

/**
 * testUserRoutes: GetUser answers TEST_USER (NotFound otherwise) and echoes the request
 * metadata "x-echo" as response header and trailer, and the request id it was served in as
 * "x-seen-request-id"; GetUserByEmail echoes the email back (for
 * large messages); ListUsers sleeps page_size milliseconds.
 */
export function testUserRoutes(router: ConnectRouter): void {
  router.service(UserService, {
    getUser(req, ctx) {
      const echo = ctx.requestHeader.get("x-echo");
      if (echo !== null) {
        ctx.responseHeader.set("x-echo", echo);
        ctx.responseTrailer.set("x-echo-trailer", echo);
      }
      if (req.id !== TEST_USER.id) throw new ConnectError(`user ${req.id} not found`, Code.NotFound);
      ctx.responseHeader.set("x-seen-request-id", currentRequest()?.requestId ?? "");
      return TEST_USER;
    },
    getUserByEmail(req) {
      return { ...TEST_USER, email: req.email };
    },
    async listUsers(req) {
      slowCalls.started++;
      await Bun.sleep(req.pageSize);
      return { users: [TEST_USER] };
    },
  });
}

/** startTestServer starts the rpc server with the test service on a free port. */
export function startTestServer(options: Partial<RpcServerOptions> = {}) {
  return startRpcServer({
    host: "127.0.0.1",
    port: 0,
    routes: testUserRoutes,
    services: [UserService],
    log: () => {},
    ...options,
  });
}
