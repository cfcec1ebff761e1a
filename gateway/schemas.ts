// The gateway's wire shapes (snake_case, like the original API). The OpenAPI document is derived
// from these zod schemas; field rules come from lib/validation.ts.
import { z } from "@hono/zod-openapi";
import { STATUS_CODES } from "node:http";
import * as rules from "../lib/validation.ts";

/** name is the shared rule (which also refuses NUL, lone surrogates and other control characters). */
export const name = rules.name;

export const Role = z.enum(["user", "admin"]).openapi({ example: "user" });

export const User = z
  .object({
    id: z.uuid().openapi({ example: "0192f5d2-8c4e-7b6a-9d3e-5f1a2b3c4d5e" }),
    email: z.email().openapi({ example: "ada@example.com" }),
    name: z.string().openapi({ example: "Ada Lovelace" }),
    role: Role,
    created_at: z.iso.datetime().openapi({ example: "2026-01-02T03:04:05.678Z" }),
    updated_at: z.iso.datetime().openapi({ example: "2026-01-02T03:04:05.678Z" }),
    deleted_at: z.iso.datetime().nullable().openapi({ example: null }),
    email_verified_at: z.iso
      .datetime()
      .nullable()
      .openapi({ example: "2026-01-02T03:10:00.000Z", description: "When the user confirmed the address; null until then" }),
  })
  .openapi("User");

export const TokenResponse = z
  .object({
    user: User,
    access_token: z.string().openapi({ example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…" }),
    refresh_token: z.string().openapi({ example: "q3p7dV0w…" }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ example: 86400, description: "Access token lifetime in seconds" }),
  })
  .openapi("TokenResponse");

export const TokenPair = TokenResponse.omit({ user: true }).openapi("TokenPair");

export const Session = z
  .object({
    id: z.uuid().openapi({ example: "9b2f7c1e-4d3a-4e8b-a1c2-3d4e5f6a7b8c" }),
    created_at: z.iso.datetime().openapi({ example: "2026-01-02T03:04:05.678Z", description: "When the sign-in happened" }),
    last_used_at: z.iso.datetime().openapi({ example: "2026-01-03T08:00:00.000Z", description: "The last sign-in or token refresh" }),
    user_agent: z.string().openapi({ example: "Mozilla/5.0 (X11; Linux x86_64)" }),
    ip: z.string().openapi({ example: "203.0.113.7" }),
    current: z.boolean().openapi({ description: "Whether the request's own access token belongs to this session" }),
  })
  .openapi("Session");

export const SessionList = z.object({ sessions: z.array(Session) }).openapi("SessionList");

export const Problem = z
  .object({
    type: z.string().openapi({ example: "about:blank" }),
    title: z.string().openapi({ example: "Unprocessable Entity" }),
    status: z.number().int().openapi({ example: 422 }),
    detail: z.string().openapi({ example: "the request body is invalid" }),
    instance: z.string().openapi({ example: "/auth/register" }),
    request_id: z.string().optional().openapi({ example: "6f1c2a9e-1b7d-4c1e-9a55-2f0f7d0c9b1a" }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ example: [{ field: "email", message: "must be a valid email address" }] }),
  })
  .openapi("Problem");

// Each status gets its own example, so the documentation doesn't show a 422 body under a 401.
/** problem documents one problem response; type is a named problem's URI (gateway/problem.ts problemTypeUri). */
export const problem = (
  status: number,
  description: string,
  instance: string,
  detail: string,
  errors?: { field: string; message: string }[],
  type = "about:blank",
) => {
  const example = {
    type,
    title: STATUS_CODES[status],
    status,
    detail,
    instance,
    request_id: "6f1c2a9e-1b7d-4c1e-9a55-2f0f7d0c9b1a",
    ...(errors && { errors }),
  };
  return { description, content: { "application/problem+json": { schema: Problem, example } } };
};

/** problems lists the error responses a route documents, by status. */
export const problems = {
  400: problem(400, "Malformed JSON", "/auth/login", "Malformed JSON in request body"),
  401: problem(401, "Missing, invalid, expired or revoked access token", "/users/me", "the access token has expired"),
  403: problem(403, "Authenticated but not allowed (admin only)", "/users", "this operation requires the admin role"),
  404: problem(
    404,
    "No such user (or not yours)",
    "/users/0192f5d2-8c4e-7b6a-9d3e-5f1a2b3c4d5e",
    "no user with id 0192f5d2-8c4e-7b6a-9d3e-5f1a2b3c4d5e",
  ),
  409: problem(409, "Conflicts with an existing user", "/auth/register", "an active user with email ada@example.com already exists"),
  413: problem(413, "Request body too large", "/auth/register", "the request body is larger than 16384 bytes"),
  415: problem(415, "Request body is not application/json", "/auth/login", "the request body must be application/json, not text/plain"),
  422: problem(
    422,
    "Validation failed; `errors` lists each field",
    "/auth/register",
    "the request is invalid: email must be a valid email address",
    [{ field: "email", message: "must be a valid email address" }],
  ),
  429: problem(429, "Rate limit exceeded; see Retry-After", "/auth/login", "too many requests: at most 10 per 60 s; retry after 42 s"),
  503: problem(503, "A backing service is unavailable; see Retry-After", "/users/me", "a backing service is unavailable; retry shortly"),
} as const;

/** pick selects documented problem responses. */
export function pick<K extends keyof typeof problems>(...statuses: K[]): Pick<typeof problems, K> {
  return Object.fromEntries(statuses.map((s) => [s, problems[s]])) as Pick<typeof problems, K>;
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
