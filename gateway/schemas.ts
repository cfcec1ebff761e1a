// The gateway's wire shapes (snake_case, like the original API). The OpenAPI document is derived
// from these zod schemas; field rules come from services/lib/validation.ts.
import { z } from "@hono/zod-openapi";
import * as rules from "../services/lib/validation.ts";

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

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });

/** problems lists the error responses a route documents, by status. */
export const problems = {
  400: problem("Malformed JSON"),
  401: problem("Missing, invalid, expired or revoked access token"),
  403: problem("Authenticated but not allowed (admin only)"),
  404: problem("No such user (or not yours)"),
  409: problem("Conflicts with an existing user"),
  413: problem("Request body too large"),
  415: problem("Request body is not application/json"),
  422: problem("Validation failed; `errors` lists each field"),
  429: problem("Rate limit exceeded; see Retry-After"),
  503: problem("A backing service is unavailable; see Retry-After"),
} as const;

/** pick selects documented problem responses. */
export function pick<K extends keyof typeof problems>(...statuses: K[]): Pick<typeof problems, K> {
  return Object.fromEntries(statuses.map((s) => [s, problems[s]])) as Pick<typeof problems, K>;
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
