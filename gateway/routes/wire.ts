// Proto messages → the gateway's snake_case JSON.
import type { UserResponse } from "../../gen/user/v1/user_pb.ts";
import type { LoginResponse, RegisterResponse } from "../../gen/auth/v1/auth_pb.ts";
import type { z } from "@hono/zod-openapi";
import type { TokenResponse, User } from "../schemas.ts";

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
  };
}

/** tokenJson renders a token pair with its user. */
export function tokenJson(res: LoginResponse | RegisterResponse): z.infer<typeof TokenResponse> {
  return {
    user: userJson(res.user),
    access_token: res.accessToken,
    refresh_token: res.refreshToken,
    token_type: "Bearer",
    expires_in: Number(res.expiresIn),
  };
}
