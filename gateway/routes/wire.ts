// Proto messages → the gateway's snake_case JSON.
import type { UserResponse } from "../../gen/user/v1/user_pb.ts";
import type { ListSessionsResponse, LoginResponse, RegisterResponse, TokenPair as TokenPairMessage } from "../../gen/auth/v1/auth_pb.ts";
import type { z } from "@hono/zod-openapi";
import type { SessionList, TokenPair, TokenResponse, User } from "../schemas.ts";

/** userJson renders a user: RFC 3339 times, deleted_at null when active, never a hash. */
export function userJson(user: UserResponse | undefined): z.infer<typeof User> {
  if (!user) throw new Error("the service answered without a user");
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role as "user" | "admin",
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    deleted_at: user.deletedAt ?? null,
    email_verified_at: user.emailVerifiedAt ?? null,
  };
}

/** tokenJson renders a token pair with its user. */
export function tokenJson(res: LoginResponse | RegisterResponse): z.infer<typeof TokenResponse> {
  return { user: userJson(res.user), ...tokenPairJson(res) };
}

/** tokenPairJson renders a token pair. */
export function tokenPairJson(res: Omit<TokenPairMessage, "$typeName" | "tokenType">): z.infer<typeof TokenPair> {
  return {
    access_token: res.accessToken,
    refresh_token: res.refreshToken,
    token_type: "Bearer",
    expires_in: Number(res.expiresIn),
  };
}

/** sessionsJson renders a session list. */
export function sessionsJson(res: ListSessionsResponse): z.infer<typeof SessionList> {
  return {
    sessions: res.sessions.map((s) => ({
      id: s.id,
      created_at: s.createdAt,
      last_used_at: s.lastUsedAt,
      user_agent: s.userAgent,
      ip: s.ip,
      current: s.current,
    })),
  };
}
