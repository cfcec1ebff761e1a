// The /auth contracts. Paths are relative to /auth, where app.ts mounts the group.
import { createRoute, z } from "@hono/zod-openapi";
import * as rules from "../../../lib/validation.ts";
import { json, name, pick, SessionList, TokenResponse } from "../../schemas.ts";

const body = <T extends z.ZodType>(schema: T, required = true) => ({
  required,
  content: { "application/json": { schema } },
});

export const RegisterBody = z
  .strictObject({
    email: rules.email.meta({ example: "ada@example.com" }),
    password: rules.password.meta({ example: "correct horse battery staple" }),
    name: name.meta({ example: "Ada Lovelace" }),
  })
  .openapi("RegisterRequest");

export const LoginBody = z
  .strictObject({
    email: rules.email.meta({ example: "ada@example.com" }),
    // Any length up to the limit: a wrong password gets the same answer as an unknown email.
    password: z
      .string()
      .min(1, "must not be empty")
      .max(128, "must be at most 128 characters")
      .openapi({ example: "correct horse battery staple" }),
  })
  .openapi("LoginRequest");

export const RefreshBody = z
  .strictObject({ refresh_token: z.string().min(1, "must not be empty").max(512, "must be at most 512 characters") })
  .openapi("RefreshRequest");

export const LogoutBody = z
  .strictObject({ refresh_token: z.string().min(1, "must not be empty").max(512, "must be at most 512 characters").optional() })
  .openapi("LogoutRequest");

const tags = ["Authentication"];
// `security: []` says "no token needed" explicitly, so linters and Swagger UI show the route as public.

export const register = createRoute({
  method: "post",
  path: "/register",
  operationId: "register",
  tags,
  security: [],
  summary: "Register new user",
  description: "Creates a user (role `user`) and returns a token pair.",
  request: { body: body(RegisterBody) },
  responses: { 201: json(TokenResponse, "Registered"), ...pick(400, 409, 413, 415, 422, 429, 503) },
});

export const login = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags,
  security: [],
  summary: "Login and get JWT token",
  description: "Unknown email and wrong password get the same 401.",
  request: { body: body(LoginBody) },
  responses: { 200: json(TokenResponse, "Logged in"), ...pick(400, 401, 413, 415, 422, 429, 503) },
});

export const refresh = createRoute({
  method: "post",
  path: "/refresh",
  operationId: "refreshToken",
  tags,
  security: [],
  summary: "Exchange a refresh token for a new token pair",
  description: "Rotates the refresh token: the old one stops working. Reusing a rotated token revokes its whole family.",
  request: { body: body(RefreshBody) },
  responses: { 200: json(TokenResponse, "Refreshed"), ...pick(400, 401, 413, 415, 422, 429, 503) },
});

export const SessionParam = z.object({
  id: z.uuid("must be a session id").meta({ example: "9b2f7c1e-4d3a-4e8b-a1c2-3d4e5f6a7b8c" }),
});

export const logout = createRoute({
  method: "post",
  path: "/logout",
  operationId: "logout",
  tags,
  summary: "End the current session (and, if given, the refresh token's)",
  description: "The session's refresh token and every access token issued in it stop working at once.",
  security: [{ bearerAuth: [] }],
  request: { body: body(LogoutBody, false) },
  responses: { 204: { description: "Logged out" }, ...pick(400, 401, 413, 415, 422, 429, 503) },
});

export const logoutAll = createRoute({
  method: "post",
  path: "/logout-all",
  operationId: "logoutAll",
  tags,
  summary: "End every session of the caller",
  description: "Every refresh token and access token of the caller stops working at once, this request's included.",
  security: [{ bearerAuth: [] }],
  responses: { 204: { description: "Every session ended" }, ...pick(401, 429, 503) },
});

export const listSessions = createRoute({
  method: "get",
  path: "/sessions",
  operationId: "listSessions",
  tags,
  summary: "List the caller's active sessions",
  description: "One session per sign-in, most recently used first; `current` marks the one this request's token belongs to.",
  security: [{ bearerAuth: [] }],
  responses: { 200: json(SessionList, "The caller's active sessions"), ...pick(401, 429, 503) },
});

export const endSession = createRoute({
  method: "delete",
  path: "/sessions/{id}",
  operationId: "endSession",
  tags,
  summary: "End one of the caller's sessions",
  description: "Its refresh token and every access token of it stop working at once. Another user's session answers 404.",
  security: [{ bearerAuth: [] }],
  request: { params: SessionParam },
  responses: { 204: { description: "Session ended" }, ...pick(401, 404, 422, 429, 503) },
});
