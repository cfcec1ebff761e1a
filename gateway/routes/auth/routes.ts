// The /auth contracts. Paths are relative to /auth, where app.ts mounts the group.
import { createRoute, z } from "@hono/zod-openapi";
import * as rules from "../../../lib/validation.ts";
import { json, name, pick, TokenResponse } from "../../schemas.ts";

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

export const logout = createRoute({
  method: "post",
  path: "/logout",
  operationId: "logout",
  tags,
  summary: "Revoke the access token and, if given, the refresh token's family",
  security: [{ bearerAuth: [] }],
  request: { body: body(LogoutBody, false) },
  responses: { 204: { description: "Logged out" }, ...pick(400, 401, 413, 415, 422, 429, 503) },
});
