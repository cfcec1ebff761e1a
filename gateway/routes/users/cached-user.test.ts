import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create, toJson, toJsonString } from "@bufbuild/protobuf";
import { UserResponseSchema } from "../../../gen/user/v1/user_pb.ts";
import { bearer, bodyOf, expectProblem, jsonInit, startTestStack, type Session, type TestStack } from "../../../test/stack.ts";
import { activeCachedUser } from "./cached-user.ts";

let stack: TestStack;
let admin: Session;
beforeAll(async () => {
  stack = await startTestStack();
  admin = await stack.registerAdmin();
});
afterAll(() => stack.close());

/** counted wraps an object so that every method call on it, or on an object it holds, is listed by path. */
function counted<T extends object>(target: T, calls: string[], path = ""): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property);
      const name = `${path}${String(property)}`;
      if (typeof value === "function") {
        return (...args: unknown[]) => {
          calls.push(name);
          return value.apply(object, args);
        };
      }
      return value && typeof value === "object" && property !== "redis" ? counted(value, calls, `${name}.`) : value;
    },
  });
}

/** observed is a gateway on the stack's own services and store, listing its store and user-service calls. */
async function observed() {
  const store: string[] = [];
  const users: string[] = [];
  const gateway = await stack.gateway({ store: counted(stack.svc.store, store), users: counted(stack.deps.users, users) });
  const me = async (session: Session, headers: Record<string, string> = {}) => {
    store.length = 0;
    users.length = 0;
    const res = await gateway.fetch("/users/me", { headers: { ...bearer(session), ...headers } });
    return { res, store: [...store], users: [...users] };
  };
  return { gateway, me };
}

const cacheKey = (id: string) => `{user:${id}}`;

describe("GET /users/me and the user cache", () => {
  test("costs one store round trip; a cached user answers without a user-service call, the same bytes and ETag", async () => {
    const { me } = await observed();
    const session = await stack.register();
    await stack.svc.store.cache.delete(cacheKey(session.user.id));

    const miss = await me(session);
    expect(miss.res.status).toBe(200);
    expect(miss.store).toEqual(["rateLimit.checkAndGet"]);
    expect(miss.users).toEqual(["getUser"]); // which filled the cache
    expect(await stack.svc.store.cache.get(cacheKey(session.user.id))).not.toBeNull();

    const hit = await me(session);
    expect(hit.res.status).toBe(200);
    expect(hit.store).toEqual(["rateLimit.checkAndGet"]);
    expect(hit.users).toEqual([]);
    expect(await hit.res.text()).toBe(await miss.res.text());
    expect(hit.res.headers.get("etag")).toBe(miss.res.headers.get("etag"));
    expect(hit.res.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);

    const notModified = await me(session, { "if-none-match": hit.res.headers.get("etag")! });
    expect(notModified.res.status).toBe(304);
    expect(notModified.users).toEqual([]);
  });

  test("after an update the next answer is the new user: the service invalidated the entry before answering", async () => {
    const { me } = await observed();
    const session = await stack.register();
    expect((await me(session)).res.status).toBe(200);
    const put = await stack.fetch(`/users/${session.user.id}`, jsonInit("PUT", { name: "Renamed" }, bearer(session)));
    expect(put.status).toBe(200);
    const after = await me(session);
    expect((await bodyOf<Session["user"]>(after.res)).name).toBe("Renamed");
    expect(after.users).toEqual(["getUser"]);
  });

  test("a deleted user's token gets 401, though the user was cached", async () => {
    const { me } = await observed();
    const session = await stack.register();
    expect((await me(session)).res.status).toBe(200);
    expect((await stack.fetch(`/users/${session.user.id}`, { method: "DELETE", headers: bearer(admin) })).status).toBe(204);
    const after = await me(session);
    await expectProblem(after.res, 401);
    expect(after.users).toEqual([]);
  });

  test("a revoked token gets 401, though its user is cached", async () => {
    const { me } = await observed();
    const session = await stack.register();
    expect((await me(session)).res.status).toBe(200);
    expect(await stack.svc.store.cache.get(cacheKey(session.user.id))).not.toBeNull();
    expect((await stack.fetch("/auth/logout", { method: "POST", headers: bearer(session) })).status).toBe(204);
    await expectProblem((await me(session)).res, 401);
  });

  test("an entry that says deleted, or that is unreadable, is a miss: the user service answers", async () => {
    const { me } = await observed();
    const session = await stack.register();
    const contract = create(UserResponseSchema, {
      ...session.user,
      createdAt: session.user.created_at,
      updatedAt: session.user.updated_at,
      deletedAt: new Date().toISOString(),
    });
    for (const entry of [toJson(UserResponseSchema, contract), { id: session.user.id, unknown: 1 }, "garbage"]) {
      await stack.svc.store.cache.set(cacheKey(session.user.id), entry);
      const res = await me(session);
      expect(res.users).toEqual(["getUser"]);
      expect(await bodyOf(res.res)).toEqual(session.user);
    }
  });
});

describe("activeCachedUser", () => {
  const user = create(UserResponseSchema, {
    id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    email: "ada@example.com",
    name: "Ada",
    role: "user",
    createdAt: "2026-12-01T10:00:00.123Z",
    updatedAt: "2026-12-01T10:00:00.123Z",
  });

  test("decodes the user's contract, and only that user's, only while active", () => {
    const json = toJsonString(UserResponseSchema, user);
    expect(activeCachedUser(json, user.id)).toEqual(user);
    expect(activeCachedUser(json, user.id)).toEqual(user); // the second time from the decoded entries
    expect(activeCachedUser(json, crypto.randomUUID())).toBeUndefined();
    const deleted = create(UserResponseSchema, { ...user, deletedAt: "2026-12-02T00:00:00.000Z" });
    expect(activeCachedUser(toJsonString(UserResponseSchema, deleted), user.id)).toBeUndefined();
    for (const entry of [undefined, "", "x", "42", JSON.stringify({ id: user.id, password_hash: "h" })]) {
      expect(activeCachedUser(entry, user.id)).toBeUndefined();
      expect(activeCachedUser(entry, user.id)).toBeUndefined();
    }
  });
});
