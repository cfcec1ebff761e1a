import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { codeOf, errorOf } from "../../test/rpc.ts";
import { Code, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { toBinary } from "@bufbuild/protobuf";
import { ListUsersResponseSchema, UserResponseSchema, UserService, UserState } from "../../gen/user/v1/user_pb.ts";
import { inProcessTransport, startTestUserService, TEST_CREDENTIALS, TEST_LIFETIMES, type TestUserService } from "../../test/services.ts";
import { authorizeCallers, sendCredential } from "../../lib/rpc/callers.ts";
import { errorInterceptor } from "../../lib/rpc/errors.ts";
import { createRevocations } from "../../lib/tokens/revocation.ts";

let svc: TestUserService;
beforeAll(async () => {
  svc = await startTestUserService();
});
afterAll(() => svc.close());

const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";
let n = 0;
const uniqueEmail = () => `user${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`;
const revocations = () => createRevocations(svc.store, TEST_LIFETIMES);
const create = (email = uniqueEmail(), name = "Ada") => svc.users.createUser({ email, passwordHash: HASH, name });

describe("CreateUser", () => {
  test("stores a normalized email and returns the public user without a hash", async () => {
    const user = await create("  Grace.Hopper@Example.COM ", "  Grace  ");
    expect(user.email).toBe("grace.hopper@example.com");
    expect(user.name).toBe("Grace");
    expect(user.role).toBe("user");
    expect(user.deletedAt).toBeUndefined();
    expect(Date.parse(user.createdAt)).not.toBeNaN();
    expect(JSON.stringify(user)).not.toContain("argon2");
  });

  test("rejects a duplicate email in any letter case with AlreadyExists", async () => {
    const email = uniqueEmail();
    await create(email);
    expect(await codeOf(create(email.toUpperCase()))).toBe(Code.AlreadyExists);
  });

  test("50 concurrent creates of one email give one success and 49 AlreadyExists", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(Array.from({ length: 50 }, () => codeOf(create(email))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === Code.AlreadyExists)).toHaveLength(49);
  });

  test.each([
    [{ email: "not-an-email" }, "email"],
    [{ email: "" }, "email"],
    [{ name: "" }, "name"],
    [{ name: "   " }, "name"],
    [{ name: "x".repeat(101) }, "name"],
    [{ passwordHash: "" }, "password_hash"],
    [{ role: "root" }, "role"],
  ])("rejects %p with InvalidArgument naming %s", async (override, field) => {
    const error = await errorOf(svc.users.createUser({ email: uniqueEmail(), passwordHash: HASH, name: "Ada", ...override }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage.startsWith(`${field}:`)).toBe(true);
  });

  test("accepts a 100-character name and an admin role", async () => {
    const user = await svc.users.createUser({ email: uniqueEmail(), passwordHash: HASH, name: "x".repeat(100), role: "admin" });
    expect(user.role).toBe("admin");
  });
});

describe("reads", () => {
  test("GetUser and GetUserByEmail (any letter case) find an active user", async () => {
    const user = await create();
    expect((await svc.users.getUser({ id: user.id })).email).toBe(user.email);
    expect((await svc.users.getUserByEmail({ email: user.email.toUpperCase() })).id).toBe(user.id);
  });

  test("GetUser answers NotFound for an unknown id and InvalidArgument for a non-UUID", async () => {
    expect(await codeOf(svc.users.getUser({ id: crypto.randomUUID() }))).toBe(Code.NotFound);
    const error = await errorOf(svc.users.getUser({ id: "../etc/passwd" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toStartWith("id:");
  });

  test("an id in upper case names the same user for every method: one cache entry, one revocation", async () => {
    const user = await create();
    const upper = user.id.toUpperCase();
    expect(upper).not.toBe(user.id);
    expect(await svc.users.getUser({ id: upper })).toEqual(user);
    expect((await svc.users.updateUser({ id: upper, name: "Upper" })).id).toBe(user.id);
    expect((await svc.users.getUser({ id: user.id })).name).toBe("Upper"); // the update cleared the cached copy
    expect((await svc.users.deleteUser({ id: upper })).success).toBe(true);
    expect(await codeOf(svc.users.getUser({ id: user.id }))).toBe(Code.NotFound);
    // keyed by the canonical id
    expect(await revocations().sessionEnded({ sid: crypto.randomUUID(), userId: user.id, issuedAtMs: Date.parse(user.createdAt) })).toBe(
      true,
    );
    expect((await svc.users.restoreUser({ id: upper })).id).toBe(user.id);
    expect((await svc.users.hardDeleteUser({ id: upper })).success).toBe(true);
    expect(await codeOf(svc.users.getUser({ id: user.id, includeDeleted: true }))).toBe(Code.NotFound);
  });

  test("GetUser reads through the cache and sees updates at once", async () => {
    const user = await create();
    await svc.users.getUser({ id: user.id });
    expect(await svc.store.cache.get(`{user:${user.id}}`)).not.toBeNull();
    await svc.users.updateUser({ id: user.id, name: "Renamed" });
    expect(await svc.store.cache.get(`{user:${user.id}}`)).toBeNull();
    expect((await svc.users.getUser({ id: user.id })).name).toBe("Renamed");
  });
});

describe("soft delete", () => {
  test("DeleteUser hides the user from every default read; include_deleted and ListUsers(deleted) see it", async () => {
    const user = await create();
    await svc.users.getUser({ id: user.id }); // warm the cache
    expect((await svc.users.deleteUser({ id: user.id })).success).toBe(true);
    expect(await codeOf(svc.users.getUser({ id: user.id }))).toBe(Code.NotFound);
    expect(await codeOf(svc.users.getUserByEmail({ email: user.email }))).toBe(Code.NotFound);
    expect(await codeOf(svc.users.deleteUser({ id: user.id }))).toBe(Code.NotFound);
    const deleted = await svc.users.getUser({ id: user.id, includeDeleted: true });
    expect(deleted.deletedAt).toBeString();
    expect(await listIds(UserState.DELETED)).toContain(user.id);
    expect(await listIds(UserState.ACTIVE)).not.toContain(user.id);
    expect(await listIds(UserState.ALL)).toContain(user.id);
  });

  test("updates of a deleted user are refused with FailedPrecondition", async () => {
    const user = await create();
    await svc.users.deleteUser({ id: user.id });
    expect(await codeOf(svc.users.updateUser({ id: user.id, name: "Nope" }))).toBe(Code.FailedPrecondition);
  });

  test("RestoreUser brings a user back, and is refused while an active user holds the email", async () => {
    const user = await create();
    await svc.users.deleteUser({ id: user.id });
    const taker = await create(user.email);
    expect(await codeOf(svc.users.restoreUser({ id: user.id }))).toBe(Code.AlreadyExists);
    await svc.users.hardDeleteUser({ id: taker.id });
    const restored = await svc.users.restoreUser({ id: user.id });
    expect(restored.deletedAt).toBeUndefined();
    expect((await svc.users.getUser({ id: user.id })).id).toBe(user.id);
  });

  test("HardDeleteUser removes the row for every read", async () => {
    const user = await create();
    await svc.users.deleteUser({ id: user.id });
    expect((await svc.users.hardDeleteUser({ id: user.id })).success).toBe(true);
    expect(await codeOf(svc.users.getUser({ id: user.id, includeDeleted: true }))).toBe(Code.NotFound);
    expect(await codeOf(svc.internal.getUserByEmailInternalWithDeleted({ email: user.email }))).toBe(Code.NotFound);
    expect(await codeOf(svc.users.hardDeleteUser({ id: user.id }))).toBe(Code.NotFound);
  });
});

describe("UpdateUser", () => {
  test("changes only the fields that are set and normalizes the email", async () => {
    const user = await create();
    const updated = await svc.users.updateUser({ id: user.id, email: `  NEW-${user.email.toUpperCase()}` });
    expect(updated.email).toBe(`new-${user.email}`);
    expect(updated.name).toBe(user.name);
    expect((await svc.users.updateUser({ id: user.id, role: "admin" })).role).toBe("admin");
  });

  test("refuses another active user's email with AlreadyExists", async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(await codeOf(svc.users.updateUser({ id: a.id, email: b.email }))).toBe(Code.AlreadyExists);
  });
});

describe("UpdateUser and email_verified_at", () => {
  test("email_verified marks the address now and clears it; a new email clears it unless marked with it", async () => {
    const user = await create();
    expect(user.emailVerifiedAt).toBeUndefined();
    const verified = await svc.users.updateUser({ id: user.id, emailVerified: true });
    expect(Date.parse(verified.emailVerifiedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    expect((await svc.users.getUser({ id: user.id })).emailVerifiedAt).toBe(verified.emailVerifiedAt);
    expect((await svc.users.updateUser({ id: user.id, name: "Renamed" })).emailVerifiedAt).toBe(verified.emailVerifiedAt);
    expect((await svc.users.updateUser({ id: user.id, emailVerified: true })).emailVerifiedAt).toBe(verified.emailVerifiedAt);
    expect((await svc.users.updateUser({ id: user.id, email: uniqueEmail() })).emailVerifiedAt).toBeUndefined();
    const moved = await svc.users.updateUser({ id: user.id, email: uniqueEmail(), emailVerified: true });
    expect(moved.emailVerifiedAt).toBeDefined();
    expect((await svc.users.updateUser({ id: user.id, emailVerified: false })).emailVerifiedAt).toBeUndefined();
  });

  test("expected_email applies the update only while the email is still that one (FailedPrecondition otherwise)", async () => {
    const user = await create();
    expect(await codeOf(svc.users.updateUser({ id: user.id, emailVerified: true, expectedEmail: uniqueEmail() }))).toBe(
      Code.FailedPrecondition,
    );
    expect((await svc.users.getUser({ id: user.id })).emailVerifiedAt).toBeUndefined();
    const ok = await svc.users.updateUser({ id: user.id, emailVerified: true, expectedEmail: user.email.toUpperCase() });
    expect(ok.emailVerifiedAt).toBeDefined();
  });
});

describe("ListUsers", () => {
  test("pages in creation order with an opaque cursor and no duplicates", async () => {
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await create());
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await svc.users.listUsers({ pageSize: 3, pageToken, state: UserState.ALL });
      expect(page.users.length).toBeLessThanOrEqual(3);
      seen.push(...page.users.map((u) => u.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(new Set(seen).size).toBe(seen.length);
    const positions = created.map((u) => seen.indexOf(u.id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });

  test("defaults to 20 per page and refuses sizes over 100 or negative, and foreign page tokens", async () => {
    for (let i = 0; i < 21; i++) await create();
    expect((await svc.users.listUsers({})).users).toHaveLength(20);
    expect(await codeOf(svc.users.listUsers({ pageSize: 101 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.users.listUsers({ pageSize: -1 }))).toBe(Code.InvalidArgument);
    expect(await codeOf(svc.users.listUsers({ pageToken: "garbage" }))).toBe(Code.InvalidArgument);
    const page = await svc.users.listUsers({ pageSize: 1, state: UserState.ALL });
    expect(await codeOf(svc.users.listUsers({ pageSize: 1, pageToken: page.nextPageToken, state: UserState.DELETED }))).toBe(
      Code.InvalidArgument,
    );
    expect((await errorOf(svc.users.listUsers({ pageSize: 1000 }))).rawMessage).toStartWith("page_size:");
  });
});

describe("internal methods", () => {
  test("return the hash with the service credential, including a deleted user's", async () => {
    const user = await create();
    expect((await svc.internal.getUserByEmailInternal({ email: user.email })).passwordHash).toBe(HASH);
    await svc.users.deleteUser({ id: user.id });
    expect(await codeOf(svc.internal.getUserByEmailInternal({ email: user.email }))).toBe(Code.NotFound);
    const withDeleted = await svc.internal.getUserByEmailInternalWithDeleted({ email: user.email });
    expect(withDeleted.passwordHash).toBe(HASH);
    expect(withDeleted.deletedAt).toBeString();
  });

  test("are refused to the gateway (PermissionDenied), and without a credential or with a wrong one (Unauthenticated)", async () => {
    const user = await create();
    const gateway = createClient(UserService, svc.as("gateway"));
    expect(await codeOf(gateway.getUserByEmailInternal({ email: user.email }))).toBe(Code.PermissionDenied);
    expect(await codeOf(gateway.getUserByEmailInternalWithDeleted({ email: user.email }))).toBe(Code.PermissionDenied);
    const over = (interceptors: Interceptor[]) =>
      createClient(
        UserService,
        createRouterTransport(svc.routes, {
          router: { interceptors: [errorInterceptor(), authorizeCallers(TEST_CREDENTIALS)] },
          transport: { interceptors },
        }),
      );
    expect(await codeOf(over([]).getUserByEmailInternal({ email: user.email }))).toBe(Code.Unauthenticated);
    expect(await codeOf(over([sendCredential("wrong-token")]).getUserByEmailInternal({ email: user.email }))).toBe(Code.Unauthenticated);
    const found = await over([sendCredential(TEST_CREDENTIALS["auth-service"][0])]).getUserByEmailInternal({ email: user.email });
    expect(found.passwordHash).toBe(HASH);
  });

  test("no public response's serialized bytes contain the hash", async () => {
    const user = await create();
    const needle = Buffer.from(HASH);
    const responses = [
      toBinary(UserResponseSchema, await svc.users.getUser({ id: user.id })),
      toBinary(UserResponseSchema, await svc.users.getUserByEmail({ email: user.email })),
      toBinary(UserResponseSchema, await svc.users.updateUser({ id: user.id, name: "Z" })),
      toBinary(ListUsersResponseSchema, await svc.users.listUsers({ pageSize: 100, state: UserState.ALL })),
    ];
    for (const bytes of responses) expect(Buffer.from(bytes).includes(needle)).toBe(false);
  });
});

async function listIds(state: UserState): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = "";
  do {
    const page = await svc.users.listUsers({ pageSize: 100, pageToken, state });
    ids.push(...page.users.map((u) => u.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return ids;
}

test("an in-process transport maps domain errors like the real server", async () => {
  const client = createClient(UserService, inProcessTransport(svc.routes));
  expect(await codeOf(client.getUser({ id: "nope" }))).toBe(Code.InvalidArgument);
});
