// The trust boundary between the gateway and the services: who may call which RPC, in one table,
// and the credentials that say who is calling. Read ACCESS first.
//
// Each caller has its own secret (GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN), sent as
// `authorization: Bearer <secret>`, so a leaked gateway secret can't read password hashes and a
// leaked auth-service secret can't delete users. Static secrets rather than signed service JWTs:
// checking one costs a constant-time compare per known secret (well under 1 µs), where a jose verification
// costs ≈ 17 µs, a large share of the internal hop's budget, and buys nothing a secret per caller
// doesn't already give inside one deployment. In-process calls (combined mode, the CLI) name their
// caller in a context value that no network request can set.
import { timingSafeEqual } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.ts";

export const CALLERS = ["gateway", "auth-service", "operator"] as const;
export type Caller = (typeof CALLERS)[number];

/** PUBLIC marks a method any client may call without a credential (AuthService's own API). */
const PUBLIC = "public";
type Access = typeof PUBLIC | readonly Caller[];
type ServiceAccess<S extends DescService> = { [M in S["methods"][number] as M["localName"]]: Access };

const gateway = "gateway";
const auth = "auth-service";
const operator = "operator";

/**
 * ACCESS is the whole boundary: every method of every service and who may call it. A method
 * missing here doesn't typecheck; grpc.health.v1 and reflection are open (they hold no data).
 */
export const ACCESS = {
  "user.v1.UserService": {
    // What the gateway's REST routes need: reads, and the admin writes they expose.
    getUser: [gateway, auth, operator],
    listUsers: [gateway, operator],
    // Account changes go through the auth service (UpdateAccount): it hashes passwords and restarts
    // the session that made the change.
    updateUser: [auth, operator],
    deleteUser: [gateway, operator],
    restoreUser: [gateway, operator],
    // What registration and sign-in need: creating a user and reading credentials.
    createUser: [auth, operator],
    getUserByEmailInternal: [auth, operator],
    getUserByEmailInternalWithDeleted: [auth, operator],
    // Only an operator (grpcurl, buf curl, scripts).
    getUserByEmail: [operator],
    hardDeleteUser: [operator],
  } satisfies ServiceAccess<typeof UserService>,
  "auth.v1.AuthService": {
    register: PUBLIC,
    login: PUBLIC,
    verifyToken: PUBLIC,
    refreshToken: PUBLIC,
    logout: PUBLIC,
    // The mailed flows: anyone may ask for a reset mail or use a link's token (limited per email
    // and per client network, like Register and Login, whoever calls).
    requestPasswordReset: PUBLIC,
    resetPassword: PUBLIC,
    verifyEmail: PUBLIC,
    // The gateway's PUT /users/{id} and session routes (it has checked who may act on whom).
    updateAccount: [gateway, operator],
    listSessions: [gateway, operator],
    endSessions: [gateway, operator],
    // POST /auth/email/verify/resend names the signed-in user the gateway authenticated.
    resendVerification: [gateway, operator],
    // Scripts that seed users with a known password.
    hashPassword: [operator],
  } satisfies ServiceAccess<typeof AuthService>,
};

const table = new Map<string, Record<string, Access>>([
  [UserService.typeName, ACCESS["user.v1.UserService"]],
  [AuthService.typeName, ACCESS["auth.v1.AuthService"]],
]);

/** callersOf lists the callers a service accepts credentials from: those named in its part of ACCESS. */
export function callersOf(service: DescService): Caller[] {
  const lists = Object.values(table.get(service.typeName) ?? {}).filter((access) => access !== PUBLIC);
  return CALLERS.filter((caller) => lists.some((list) => list.includes(caller)));
}

/** callerKey carries the caller: set by an in-process transport, or by authorizeCallers once a
 * credential is checked (handlers read it, e.g. to trust the gateway's x-client-ip); a network
 * request can't set it. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "in-process caller" });

/** CLIENT_IP_HEADER and CLIENT_USER_AGENT_HEADER name the client behind the gateway, which sends
 * them; a service believes them only from a caller identified as the gateway (callerKey). */
export const CLIENT_IP_HEADER = "x-client-ip";
export const CLIENT_USER_AGENT_HEADER = "x-client-user-agent";

/** CallerCredentials are the secrets a server accepts for each caller: current first, then the previous one during a rotation. */
export type CallerCredentials = Partial<Record<Caller, readonly string[]>>;

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * authorizeCallers is the server interceptor that enforces ACCESS: no credential or an unknown one
 * is Unauthenticated, a known caller outside a method's list is PermissionDenied. It runs before
 * the handler, so neither answer says anything about the data.
 */
export function authorizeCallers(credentials: CallerCredentials): Interceptor {
  const known = Object.entries(credentials).flatMap(([caller, secrets]) =>
    (secrets ?? []).map((secret) => ({ caller: caller as Caller, bytes: Buffer.from(secret) })),
  );
  // undefined when no credential is presented, null when it matches none.
  const identify = (header: string | null): Caller | null | undefined => {
    const presented = header ? BEARER.exec(header)?.[1] : undefined;
    if (!presented) return undefined;
    const bytes = Buffer.from(presented);
    let found: Caller | null = null;
    // Every secret of the same length is compared in constant time, with no early exit: the time
    // says nothing about which one matched or how much of one did (only a length, which is public:
    // the generated secrets all have one).
    for (const entry of known) {
      if (entry.bytes.length === bytes.length && timingSafeEqual(bytes, entry.bytes) && !found) found = entry.caller;
    }
    return found;
  };
  return (next) => (req) => {
    const access = table.get(req.service.typeName)?.[req.method.localName];
    // Health and reflection hold no data: open, and nobody is identified.
    if (access === undefined) return next(req);
    let caller = req.contextValues.get(callerKey);
    if (!caller) {
      const found = identify(req.header.get("authorization"));
      // AuthService's own API is open to anyone, whatever a client puts in its headers; a valid
      // credential only tells the handler who is calling.
      if (found === null && access !== PUBLIC) throw new UnauthenticatedError("the service credential is not valid");
      caller = found ?? undefined;
      if (caller) req.contextValues.set(callerKey, caller);
    }
    if (access === PUBLIC) return next(req);
    if (!caller) throw new UnauthenticatedError("this method needs a service credential (authorization: Bearer <token>)");
    if (!access.includes(caller)) throw new PermissionDeniedError(`${caller} may not call ${req.service.typeName}/${req.method.name}`);
    return next(req);
  };
}

/** sendCredential is the client interceptor that presents a caller's secret on every call. */
export function sendCredential(secret: string): Interceptor {
  const value = `Bearer ${secret}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}
