// The /auth contracts. Paths are relative to /auth, where app.ts mounts the group.
import { createRoute, z } from "@hono/zod-openapi";
import * as rules from "../../../lib/validation.ts";
import { PROBLEM_TYPES } from "../../../lib/errors.ts";
import { problemTypeUri } from "../../problem.ts";
import { json, name, pick, problem, SessionList, TokenResponse, User } from "../../schemas.ts";

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

const notVerified = problem(
  403,
  `REQUIRE_VERIFIED_EMAIL is on and the address isn't verified (type \`${problemTypeUri(PROBLEM_TYPES.emailNotVerified)}\`); answered only after the password is right`,
  "/auth/login",
  "the email address is not verified: follow the link mailed to it, or sign up again to get a new one",
  undefined,
  problemTypeUri(PROBLEM_TYPES.emailNotVerified),
);
const invalidToken = problem(
  422,
  `Failed validation, or a token that is unknown, used or expired — one answer for all three (type \`${problemTypeUri(PROBLEM_TYPES.invalidToken)}\`)`,
  "/auth/password/reset",
  "token: is invalid or has expired: ask for a new link",
  undefined,
  problemTypeUri(PROBLEM_TYPES.invalidToken),
);

export const login = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags,
  security: [],
  summary: "Login and get JWT token",
  description: "Unknown email and wrong password get the same 401.",
  request: { body: body(LoginBody) },
  responses: { 200: json(TokenResponse, "Logged in"), ...pick(400, 401, 413, 415, 422, 429, 503), 403: notVerified },
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

// The mailed flows (README: Password reset and email verification). A link's token travels in its
// fragment (`#token=…`), which browsers never send to a server; the page POSTs it here.
const mailedToken = z
  .string()
  .min(1, "must not be empty")
  .max(512, "must be at most 512 characters")
  .openapi({ example: "Jx0d1pQe3lYb6n8Vw2Rk5sTz9uHa4cMf7gLi0oNq1yE", description: "The token from the link's fragment" });

export const ForgotPasswordBody = z
  .strictObject({ email: rules.email.meta({ example: "ada@example.com" }) })
  .openapi("ForgotPasswordRequest");

export const ResetPasswordBody = z
  .strictObject({ token: mailedToken, password: rules.password.meta({ example: "a new long passphrase" }) })
  .openapi("ResetPasswordRequest");

export const VerifyEmailBody = z.strictObject({ token: mailedToken }).openapi("VerifyEmailRequest");

const accepted = (description: string) => ({ 202: { description } });

export const forgotPassword = createRoute({
  method: "post",
  path: "/password/forgot",
  operationId: "forgotPassword",
  tags,
  security: [],
  summary: "Mail a password-reset link",
  description:
    "Always 202, in the same time whether or not an account has the address: the lookup and the mail happen later, off the request. The link works once, for `PASSWORD_RESET_TTL_MINUTES` (30). Limited per email and per client network (`MAIL_LIMIT_*`).",
  request: { body: body(ForgotPasswordBody) },
  responses: { ...accepted("Accepted: if an active account has the address, a link is on its way"), ...pick(400, 413, 415, 422, 429, 503) },
});

export const resetPassword = createRoute({
  method: "post",
  path: "/password/reset",
  operationId: "resetPassword",
  tags,
  security: [],
  summary: "Set a new password with a reset link's token",
  description:
    "Sets the password and ends every session of the user (their refresh and access tokens stop working at once); sign in again. The token works once; a used, expired or unknown token gets one and the same 422.",
  request: { body: body(ResetPasswordBody) },
  responses: { 204: { description: "Password set; every session ended" }, ...pick(400, 413, 415, 429, 503), 422: invalidToken },
});

export const verifyEmail = createRoute({
  method: "post",
  path: "/email/verify",
  operationId: "verifyEmail",
  tags,
  security: [],
  summary: "Confirm an email address with a mailed link's token",
  description:
    "A verification link sets `email_verified_at`. An email-change link makes the new address the user's (verified), voids their access tokens (refresh to get new ones) and tells the old address.",
  request: { body: body(VerifyEmailBody) },
  responses: { 200: json(User, "The user, with the confirmed address"), ...pick(400, 409, 413, 415, 429, 503), 422: invalidToken },
});

export const resendVerification = createRoute({
  method: "post",
  path: "/email/verify/resend",
  operationId: "resendVerification",
  tags,
  summary: "Mail the caller a new verification link",
  description: "409 when the address is already verified. Limited per email and per client network (`MAIL_LIMIT_*`).",
  security: [{ bearerAuth: [] }],
  responses: { ...accepted("Accepted: a new link is on its way"), ...pick(401, 409, 429, 503) },
});
