// user.v1.UserService over Connect: proto ↔ domain and field validation. Who may call which method
// (the internal ones return password hashes) is decided before this, by lib/rpc/callers.ts; errors
// are mapped to codes once, by the server's interceptor.
import type { ConnectRouter } from "@connectrpc/connect";
import { z } from "zod";
import type { User } from "../../gen/prisma/client.ts";
import { UserService, UserState } from "../../gen/user/v1/user_pb.ts";
import { InvalidArgumentError } from "../../lib/errors.ts";
import { check, email, name, role, userId } from "../../lib/validation.ts";
import { toContract as toUserResponse } from "./user.cache.ts";
import * as users from "./user.ts";
import type { UserDeps } from "./user.ts";

const STATES = {
  [UserState.UNSPECIFIED]: "active",
  [UserState.ACTIVE]: "active",
  [UserState.DELETED]: "deleted",
  [UserState.ALL]: "all",
} as const;

/** userRoutes registers UserService over deps. */
export function userRoutes(deps: UserDeps) {
  return (router: ConnectRouter) =>
    router.service(UserService, {
      getUser: async (req) => toUserResponse(await users.getUser(deps, check("id", userId, req.id), req.includeDeleted)),
      getUserByEmail: async (req) => toUserResponse(users.toPublic(await users.getUserByEmail(deps, check("email", email, req.email)))),
      listUsers: async (req) => {
        const state = STATES[req.state as keyof typeof STATES];
        if (!state) throw new InvalidArgumentError("state", `unknown value ${req.state}`);
        if (req.pageSize < 0 || req.pageSize > users.PAGE_SIZE.max)
          throw new InvalidArgumentError("page_size", `must be between 1 and ${users.PAGE_SIZE.max} (0 means ${users.PAGE_SIZE.default})`);
        const page = await users.listUsers(deps, { pageSize: req.pageSize || users.PAGE_SIZE.default, pageToken: req.pageToken, state });
        return { users: page.users.map(toUserResponse), nextPageToken: page.nextPageToken };
      },
      createUser: async (req) =>
        toUserResponse(
          await users.createUser(deps, {
            email: check("email", email, req.email),
            passwordHash: check("password_hash", passwordHash, req.passwordHash),
            name: check("name", name, req.name),
            role: req.role === undefined ? "user" : check("role", role, req.role),
          }),
        ),
      updateUser: async (req) =>
        toUserResponse(
          await users.updateUser(deps, check("id", userId, req.id), {
            name: req.name === undefined ? undefined : check("name", name, req.name),
            email: req.email === undefined ? undefined : check("email", email, req.email),
            role: req.role === undefined ? undefined : check("role", role, req.role),
            passwordHash: req.passwordHash === undefined ? undefined : check("password_hash", passwordHash, req.passwordHash),
            emailVerified: req.emailVerified,
            expectedEmail: req.expectedEmail === undefined ? undefined : check("expected_email", email, req.expectedEmail),
          }),
        ),
      deleteUser: async (req) => {
        await users.deleteUser(deps, check("id", userId, req.id));
        return { success: true };
      },
      restoreUser: async (req) => toUserResponse(await users.restoreUser(deps, check("id", userId, req.id))),
      hardDeleteUser: async (req) => {
        await users.hardDeleteUser(deps, check("id", userId, req.id));
        return { success: true };
      },
      getUserByEmailInternal: async (req) => toInternalResponse(await users.getUserByEmail(deps, check("email", email, req.email))),
      getUserByEmailInternalWithDeleted: async (req) =>
        toInternalResponse(await users.getUserByEmailWithDeleted(deps, check("email", email, req.email))),
    });
}

// The hash is computed by the auth service; this only refuses what can't be one.
const passwordHash = z.string().min(1, "must not be empty").max(512, "must be at most 512 characters");

// The public fields as GetUser answers them (the cache stores the same), plus the hash.
function toInternalResponse(user: User) {
  const { $typeName: _, ...fields } = toUserResponse(users.toPublic(user));
  return { ...fields, passwordHash: user.passwordHash };
}
