// The user cache: each active user under `{user:<id>}` (the toolkit's key family, as a hash tag: on a
// Redis Cluster it shares a slot with the user's revocation marks) for one hour, stored
// as the public contract user.v1.UserResponse in protobuf JSON. The contract, not this service's
// types, is the format because the gateway reads these entries itself — in the same round trip as
// its rate limit and revocation check (gateway/routes/users/cached-user.ts) — and must not import
// this service. This service alone writes and invalidates them, before it answers.
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type UserResponse, UserResponseSchema } from "../../gen/user/v1/user_pb.ts";
import { type Store, userTag } from "../../lib/redis/index.ts";
import type { PublicUser } from "./user.ts";

const key = userTag;

/** read returns the cached active user, or null when absent (an entry of a deleted user is none). */
export async function read(store: Store, id: string): Promise<PublicUser | null> {
  const json = await store.cache.get<JsonValue>(key(id));
  const user = json === null ? undefined : fromJson(UserResponseSchema, json);
  return user && user.deletedAt === undefined ? fromContract(user) : null;
}

/** write caches an active user (a deleted one is never cached: it is no GetUser answer). */
export async function write(store: Store, user: PublicUser): Promise<void> {
  if (user.deletedAt) return;
  await store.cache.set(key(user.id), toJson(UserResponseSchema, toContract(user)));
}

/** invalidate drops a user's entry. */
export async function invalidate(store: Store, id: string): Promise<void> {
  await store.cache.delete(key(id));
}

/** toContract is the user as GetUser answers it: RFC 3339 times, deleted_at only when deleted. */
export function toContract(user: PublicUser): UserResponse {
  return create(UserResponseSchema, {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    deletedAt: user.deletedAt?.toISOString(),
    emailVerifiedAt: user.emailVerifiedAt?.toISOString(),
  });
}

// Only an active user's entry is read (deletedAt unset).
function fromContract(user: UserResponse): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role as PublicUser["role"],
    createdAt: new Date(user.createdAt),
    updatedAt: new Date(user.updatedAt),
    deletedAt: null,
    emailVerifiedAt: user.emailVerifiedAt ? new Date(user.emailVerifiedAt) : null,
  };
}
