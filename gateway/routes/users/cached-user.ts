// GET /users/me from the user service's cache, without a call: the rate limit's round trip read the
// entry (`{user:<id>}`, the user.v1.UserResponse contract in protobuf JSON, written and invalidated
// by the user service) together with the token's revocation marks, and authenticate handed it on
// only for an unrevoked token. Anything doubtful is a miss, and the user service answers.
import { fromJsonString } from "@bufbuild/protobuf";
import { type UserResponse, UserResponseSchema } from "../../../gen/user/v1/user_pb.ts";

const CACHE_SIZE = 10_000;

// Decoded entries by their exact text: decoding is a pure function of it, and the same entry is
// read on every request of its user. Bounded; the oldest entry is evicted first.
const decoded = new Map<string, UserResponse | null>();

function decode(entry: string): UserResponse | null {
  let user = decoded.get(entry);
  if (user === undefined) {
    try {
      user = fromJsonString(UserResponseSchema, entry);
    } catch {
      user = null;
    }
    if (decoded.size >= CACHE_SIZE) decoded.delete(decoded.keys().next().value!);
    decoded.set(entry, user);
  }
  return user;
}

/** activeCachedUser decodes the cached entry of user id; undefined when absent, unreadable, another
 * user's or deleted (the user service never caches a deleted user: this only makes sure). */
export function activeCachedUser(entry: string | undefined, id: string): UserResponse | undefined {
  const user = entry ? decode(entry) : null;
  return user && user.id === id && user.deletedAt === undefined ? user : undefined;
}
