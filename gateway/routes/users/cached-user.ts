// GET /users/me from the user service's cache, without a call: the rate limit's round trip read the
// entry (`user:<id>`, the user.v1.UserResponse contract in protobuf JSON, written and invalidated
// by the user service) together with the token's revocation marks, and authenticate handed it on
// only for an unrevoked token. Anything doubtful is a miss, and the user service answers.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type UserResponse, UserResponseSchema } from "../../../gen/user/v1/user_pb.ts";

/** activeCachedUser decodes the cached entry of user id; undefined when absent, unreadable, another
 * user's or deleted (the user service never caches a deleted user: this only makes sure). */
export function activeCachedUser(entry: unknown, id: string): UserResponse | undefined {
  if (entry == null) return undefined;
  try {
    const user = fromJson(UserResponseSchema, entry as JsonValue);
    return user.id === id && user.deletedAt === undefined ? user : undefined;
  } catch {
    return undefined;
  }
}
