// The /users contracts. Paths are relative to /users, where app.ts mounts the group; every route
// needs a bearer token (the group's middleware), and an admin-only route carries its guard here.
import { createRoute, z } from "@hono/zod-openapi";
import * as rules from "../../../lib/validation.ts";
import { requireAdmin } from "../../middleware/authenticate.ts";
import { json, name, pick, Role, SessionList, TokenPair, User } from "../../schemas.ts";

const tags = ["Users"];
const security = [{ bearerAuth: [] }];
// The guard and the document's mark in one spread, so they can't drift apart (guards.test.ts reads the mark).
const adminOnly = { middleware: [requireAdmin], "x-required-role": "admin" };

export const IdParam = z.object({
  id: rules.userId.meta({ example: "0192f5d2-8c4e-7b6a-9d3e-5f1a2b3c4d5e" }),
});

export const ListQuery = z.object({
  page_size: z.coerce
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(100, "must be at most 100")
    .optional()
    .openapi({ param: { name: "page_size", in: "query" }, example: 20, description: "1 to 100; default 20" }),
  page_token: z
    .string()
    .max(1024, "is too long")
    .optional()
    .openapi({ param: { name: "page_token", in: "query" }, description: "next_page_token of the previous page" }),
  state: z
    .enum(["active", "deleted", "all"], "must be active, deleted or all")
    .default("active")
    .openapi({ param: { name: "state", in: "query" } }),
});

export const UserPage = z
  .object({ users: z.array(User), next_page_token: z.string().nullable().openapi({ example: null }) })
  .openapi("UserPage");

export const UpdateBody = z
  .strictObject({
    name: name.optional().meta({ example: "Ada King" }),
    email: rules.email.optional().meta({ example: "ada.king@example.com" }),
    password: rules.password.optional().meta({ example: "a new long passphrase" }),
    role: Role.optional().openapi({ description: "Admins only" }),
    current_password: z.string().min(1, "must not be empty").max(128, "must be at most 128 characters").optional().openapi({
      example: "correct horse battery staple",
      description: "Required to change your own `email` or `password`; a wrong one counts as a failed sign-in",
    }),
  })
  .openapi("UpdateUserRequest");

export const UpdatedUser = User.extend({
  pending_email: z.email().optional().openapi({
    example: "ada.king@example.com",
    description:
      "Set when you changed your own email: the change waits for the link mailed to this address (POST /auth/email/verify), and `email` is still the old one",
  }),
  tokens: TokenPair.optional().openapi({
    description:
      "A fresh token pair for the session that made the change, when the change voided its tokens (your own password, email or role): use it from now on",
  }),
}).openapi("UpdatedUser");

export const SessionIdParam = IdParam.extend({
  sid: z.uuid("must be a session id").meta({ example: "9b2f7c1e-4d3a-4e8b-a1c2-3d4e5f6a7b8c" }),
});

export const me = createRoute({
  method: "get",
  path: "/me",
  operationId: "getCurrentUser",
  tags,
  security,
  summary: "Get current user profile",
  responses: { 200: json(User, "The authenticated user"), ...pick(401, 404, 429, 503) },
});

export const list = createRoute({
  method: "get",
  path: "/",
  operationId: "listUsers",
  tags,
  security,
  ...adminOnly,
  summary: "List all users (admin)",
  request: { query: ListQuery },
  responses: { 200: json(UserPage, "A page of users"), ...pick(401, 403, 422, 429, 503) },
});

export const get = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getUser",
  tags,
  security,
  summary: "Get user by ID",
  description: "Users may read only themselves: another user's id answers 404, like a missing one.",
  request: { params: IdParam },
  responses: { 200: json(User, "The user"), ...pick(401, 404, 422, 429, 503) },
});

export const update = createRoute({
  method: "put",
  path: "/{id}",
  operationId: "updateUser",
  tags,
  security,
  summary: "Update user",
  description:
    "Users may update only themselves (another id answers 404); only admins may change `role` (403 otherwise). " +
    "Changing your own `email` or `password` needs `current_password` (422 without it, 401 when wrong). " +
    "A new role, email or password voids the user's access tokens; a new password also ends every other session. " +
    "The last active admin can't be demoted (409).",
  request: { params: IdParam, body: { required: true, content: { "application/json": { schema: UpdateBody } } } },
  responses: { 200: json(UpdatedUser, "The updated user"), ...pick(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
});

export const remove = createRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deleteUser",
  tags,
  security,
  ...adminOnly,
  summary: "Soft delete user (admin)",
  description: "Ends every session of the user. The last active admin can't be deleted (409).",
  request: { params: IdParam },
  responses: { 204: { description: "Deleted (restorable)" }, ...pick(401, 403, 404, 409, 422, 429, 503) },
});

export const restore = createRoute({
  method: "post",
  path: "/{id}/restore",
  operationId: "restoreUser",
  tags,
  security,
  ...adminOnly,
  summary: "Restore soft-deleted user (admin)",
  request: { params: IdParam },
  responses: { 200: json(User, "The restored user"), ...pick(401, 403, 404, 409, 422, 429, 503) },
});

export const sessions = createRoute({
  method: "get",
  path: "/{id}/sessions",
  operationId: "listUserSessions",
  tags,
  security,
  ...adminOnly,
  summary: "List a user's active sessions (admin)",
  request: { params: IdParam },
  responses: { 200: json(SessionList, "The user's active sessions"), ...pick(401, 403, 404, 422, 429, 503) },
});

export const endSession = createRoute({
  method: "delete",
  path: "/{id}/sessions/{sid}",
  operationId: "endUserSession",
  tags,
  security,
  ...adminOnly,
  summary: "End one of a user's sessions (admin)",
  description: "Its refresh token and every access token of it stop working at once.",
  request: { params: SessionIdParam },
  responses: { 204: { description: "Session ended" }, ...pick(401, 403, 404, 422, 429, 503) },
});
