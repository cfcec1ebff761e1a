import { expect, test } from "bun:test";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { UserResponseSchema } from "../../gen/user/v1/user_pb.ts";
import { describeStores } from "../../test/stores.ts";
import * as userCache from "./user.cache.ts";
import type { PublicUser } from "./user.ts";

const newUser = (): PublicUser => ({
  id: crypto.randomUUID(),
  email: "ada@example.com",
  name: "Ada",
  role: "user",
  createdAt: new Date("2026-12-01T10:00:00.123Z"),
  updatedAt: new Date("2026-12-02T11:30:00.456Z"),
  deletedAt: null,
  emailVerifiedAt: new Date("2026-12-02T11:00:00.789Z"),
});

describeStores("user cache", (store) => {
  test("read returns what write cached, null once invalidated or never cached", async () => {
    const user = newUser();
    expect(await userCache.read(store(), user.id)).toBeNull();
    await userCache.write(store(), user);
    expect(await userCache.read(store(), user.id)).toEqual(user);
    await userCache.invalidate(store(), user.id);
    expect(await userCache.read(store(), user.id)).toBeNull();
  });

  test("an entry is the UserResponse contract in protobuf JSON under {user:<id>}, as GetUser answers it", async () => {
    const user = newUser();
    await userCache.write(store(), user);
    const json = await store().cache.get<JsonValue>(`{user:${user.id}}`);
    expect(json).toEqual({
      id: user.id,
      email: "ada@example.com",
      name: "Ada",
      role: "user",
      createdAt: "2026-12-01T10:00:00.123Z",
      updatedAt: "2026-12-02T11:30:00.456Z",
      emailVerifiedAt: "2026-12-02T11:00:00.789Z",
    });
    expect(fromJson(UserResponseSchema, json as JsonValue)).toEqual(userCache.toContract(user));
  });

  test("write never caches a deleted user, and read takes a deleted user's entry for none", async () => {
    const user = { ...newUser(), deletedAt: new Date("2026-12-02T12:00:00.000Z") };
    await userCache.write(store(), user);
    expect(await store().cache.get(`{user:${user.id}}`)).toBeNull();
    await store().cache.set(`{user:${user.id}}`, toJson(UserResponseSchema, userCache.toContract(user)));
    expect(await store().cache.get(`{user:${user.id}}`)).toMatchObject({ deletedAt: "2026-12-02T12:00:00.000Z" });
    expect(await userCache.read(store(), user.id)).toBeNull();
  });

  test("an entry lives for the toolkit's default hour", async () => {
    const user = newUser();
    await userCache.write(store(), user);
    const redis = store().redis;
    if (redis) expect(await redis.pttl(`${store().prefix}{user:${user.id}}`)).toBeWithin(3_590_000, 3_600_001);
  });
});
