// Routes for the RPC behaviour suites (lib/rpc/connect-listener.test.ts, connect-unary.test.ts): each
// GetUser id asks for one behaviour a transport must carry unchanged: metadata both ways, codes,
// error details and metadata, a hidden internal error, a call that waits for its signal.
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { GetUserRequestSchema, UserService } from "../gen/user/v1/user_pb.ts";
import { ResourceExhaustedError } from "../lib/errors.ts";
import { TEST_USER } from "./fixture-user-service.ts";

/** aborted resolves, per GetUser "wait" call, with the reason its ctx.signal aborted with. */
export const aborted: Array<Promise<unknown>> = [];

export function behaviourRoutes(router: ConnectRouter): void {
  router.service(UserService, {
    getUser(req, ctx) {
      const echo = ctx.requestHeader.get("x-echo");
      if (echo !== null) {
        ctx.responseHeader.set("x-echo", echo);
        ctx.responseTrailer.set("x-echo-trailer", echo);
      }
      switch (req.id) {
        case TEST_USER.id:
          return TEST_USER;
        case "details":
          ctx.responseTrailer.set("x-trailer-on-error", "t");
          throw new ConnectError("bad id", Code.InvalidArgument, { "x-error-meta": "m" }, [
            { desc: GetUserRequestSchema, value: { id: "why" } },
          ]);
        case "busy":
          throw new ResourceExhaustedError("slow down", 7);
        case "boom":
          throw new Error("a secret stack detail");
        case "authorization":
          return { ...TEST_USER, name: ctx.requestHeader.get("authorization") ?? "" };
        case "deadline":
          return { ...TEST_USER, name: String(ctx.timeoutMs()) };
        case "wait": {
          const { promise, resolve } = Promise.withResolvers<unknown>();
          aborted.push(promise);
          ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason));
          return new Promise(() => {});
        }
        default:
          throw new ConnectError(`user ${req.id} not found`, Code.NotFound);
      }
    },
    getUserByEmail(req) {
      return { ...TEST_USER, email: req.email };
    },
    async listUsers(req) {
      await Bun.sleep(req.pageSize);
      return { users: [TEST_USER] };
    },
  });
}
