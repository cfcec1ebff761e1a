import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorOf } from "../../test/rpc.ts";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { AuthService, LoginResponseSchema, RegisterResponseSchema } from "../../gen/auth/v1/auth_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import {
  inProcessTransport,
  silentLog,
  startTestUserService,
  testMailOptions,
  UNLIMITED_AUTH_LIMITS,
  type TestUserService,
} from "../../test/services.ts";
import { authRoutes } from "./auth.rpc.ts";
import { createAuthDeps, type AuthServiceOptions } from "./service.ts";
import type { Hasher } from "./passwords.ts";

const JWT_SECRET = "test-jwt-secret-0123456789abcdefghijklmnop";
const GRACE_SECONDS = 0.5;

let svc: TestUserService;
let auth: Client<typeof AuthService>;
// Every Argon2id call, observed at the primitive: the property under test is that login always
// runs exactly one verification, whatever the account.
const calls = { hashed: 0, verified: [] as string[] };
const spyHasher: Hasher = {
  hash: (password, params) => {
    calls.hashed++;
    return Bun.password.hash(password, params);
  },
  verify: (password, hash) => {
    calls.verified.push(hash);
    return Bun.password.verify(password, hash);
  },
};
let dummyHash: string;

async function authClient(overrides: Partial<AuthServiceOptions> = {}) {
  const deps = await createAuthDeps({
    store: svc.store,
    log: silentLog,
    users: createClient(UserService, svc.as("auth-service")),
    jwt: { secret: JWT_SECRET, expirationHours: 1 },
    refreshTokenTtlDays: 30,
    refreshReuseGraceSeconds: GRACE_SECONDS,
    limits: UNLIMITED_AUTH_LIMITS,
    passwords: { hasher: spyHasher },
    mail: testMailOptions(),
    ...overrides,
  });
  opened.push(deps);
  return { deps, client: createClient(AuthService, inProcessTransport(authRoutes(deps))) };
}

beforeAll(async () => {
  svc = await startTestUserService();
  const made = await authClient();
  auth = made.client;
  dummyHash = made.deps.passwords.dummyHash;
});
const opened: { mail: { close(): Promise<void> } }[] = [];
afterAll(async () => {
  await Promise.all(opened.map((deps) => deps.mail.close()));
  await svc.close();
});

let n = 0;
const uniqueEmail = () => `auth${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`;
const PASSWORD = "correct horse battery staple";
const registerUser = (email = uniqueEmail(), password = PASSWORD) => auth.register({ email, password, name: "Ada" });

describe("Register", () => {
  test("creates the user and answers a Bearer token pair whose access token verifies", async () => {
    const email = uniqueEmail();
    const res = await auth.register({ email: `  ${email.toUpperCase()} `, password: PASSWORD, name: " Ada " });
    expect(res.user).toMatchObject({ email, name: "Ada", role: "user" });
    expect(res.tokenType).toBe("Bearer");
    expect(res.expiresIn).toBe(3600n);
    expect(res.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const verified = await auth.verifyToken({ token: res.accessToken });
    expect(verified).toMatchObject({ userId: res.user!.id, email, role: "user" });
    const stored = await svc.internal.getUserByEmailInternal({ email });
    expect(stored.passwordHash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    const bytes = new TextDecoder().decode(toBinary(RegisterResponseSchema, res));
    expect(bytes).not.toContain("argon2");
    expect(bytes).not.toContain(PASSWORD);
  });

  test("keeps the password verbatim: surrounding spaces are part of it", async () => {
    const email = uniqueEmail();
    await registerUser(email, "  spaced out  ");
    expect((await auth.login({ email, password: "  spaced out  " })).user?.email).toBe(email);
    expect((await errorOf(auth.login({ email, password: "spaced out" }))).code).toBe(Code.Unauthenticated);
  });

  test.each([
    [{ password: "x".repeat(129) }, "password"],
    [{ password: "x".repeat(1024 * 1024) }, "password"],
    [{ password: "short" }, "password"],
    [{ email: "not-an-email" }, "email"],
    [{ name: "" }, "name"],
    [{ name: "x".repeat(101) }, "name"],
  ])("refuses %# with InvalidArgument naming %s, before any hashing", async (override, field) => {
    const before = calls.hashed;
    const error = await errorOf(auth.register({ email: uniqueEmail(), password: PASSWORD, name: "Ada", ...override }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toStartWith(`${field}:`);
    expect(calls.hashed).toBe(before);
  });

  test("accepts exactly 8 and 128 characters", async () => {
    await registerUser(uniqueEmail(), "x".repeat(8));
    await registerUser(uniqueEmail(), "é".repeat(128));
  });

  test("refuses an email already registered, in any letter case, with AlreadyExists", async () => {
    const email = uniqueEmail();
    await registerUser(email);
    expect((await errorOf(registerUser(email.toUpperCase()))).code).toBe(Code.AlreadyExists);
  });
});

describe("Login", () => {
  test("answers the user and a token pair; VerifyToken returns id, email, role, expiry and jti", async () => {
    const email = uniqueEmail();
    const { user } = await registerUser(email);
    const res = await auth.login({ email: email.toUpperCase(), password: PASSWORD });
    expect(res.user?.id).toBe(user!.id);
    expect(res.tokenType).toBe("Bearer");
    const verified = await auth.verifyToken({ token: res.accessToken });
    expect(verified.userId).toBe(user!.id);
    expect(verified.email).toBe(email);
    expect(verified.role).toBe("user");
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
    const inAnHour = BigInt(Math.floor(Date.now() / 1000) + 3600);
    expect(verified.expiresAt > inAnHour - 5n && verified.expiresAt <= inAnHour).toBe(true);
    expect(new TextDecoder().decode(toBinary(LoginResponseSchema, res))).not.toContain("argon2");
  });

  test("unknown email, wrong password, deleted user and a malformed stored hash fail alike, each after exactly one verification", async () => {
    const email = uniqueEmail();
    const { user } = await registerUser(email);
    const deleted = uniqueEmail();
    const { user: gone } = await registerUser(deleted);
    await svc.users.deleteUser({ id: gone!.id });
    const malformed = uniqueEmail();
    await svc.users.createUser({ email: malformed, passwordHash: "not-an-argon2-hash", name: "Odd" });

    const cases = [
      { email: uniqueEmail(), password: PASSWORD, verifiedWith: dummyHash },
      { email, password: "wrong password!", verifiedWith: (await svc.internal.getUserByEmailInternal({ email })).passwordHash },
      { email: deleted, password: PASSWORD, verifiedWith: dummyHash },
      { email: malformed, password: PASSWORD, verifiedWith: dummyHash },
    ];
    const errors = [];
    for (const c of cases) {
      calls.verified = [];
      const error = await errorOf(auth.login({ email: c.email, password: c.password }));
      expect(calls.verified).toEqual([c.verifiedWith]);
      errors.push({ code: error.code, message: error.rawMessage, metadata: [...error.metadata] });
    }
    expect(errors[0]).toMatchObject({ code: Code.Unauthenticated, message: "invalid email or password" });
    for (const e of errors) expect(e).toEqual(errors[0]!);

    calls.verified = [];
    await auth.login({ email, password: PASSWORD });
    expect(calls.verified).toHaveLength(1);
    expect(user).toBeDefined();
  });

  test("an over-long password is refused without hashing; a bad email is InvalidArgument", async () => {
    calls.verified = [];
    expect((await errorOf(auth.login({ email: uniqueEmail(), password: "x".repeat(129) }))).code).toBe(Code.InvalidArgument);
    expect((await errorOf(auth.login({ email: "nope", password: PASSWORD }))).code).toBe(Code.InvalidArgument);
    expect(calls.verified).toEqual([]);
  });

  test("a saturated hashing bound answers ResourceExhausted", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const { client } = await authClient({
      passwords: {
        concurrency: 1,
        maxWaitMs: 20,
        hasher: {
          hash: async (password, params) => {
            if (!first) return held.then(() => "$argon2id$held");
            first = false;
            return Bun.password.hash(password, params);
          },
          verify: async () => held.then(() => false),
        },
      },
    });
    const holding = client.login({ email: uniqueEmail(), password: PASSWORD }).catch(() => {});
    const error = await errorOf(client.login({ email: uniqueEmail(), password: PASSWORD }));
    expect(error.code).toBe(Code.ResourceExhausted);
    release();
    await holding;
  });

  test("a user service that refuses our credential is our fault: Internal, not Unauthenticated", async () => {
    // Calling as the gateway, which may not read credentials: PermissionDenied from the user service.
    const { client } = await authClient({ users: createClient(UserService, svc.as("gateway")) });
    const email = uniqueEmail();
    await registerUser(email);
    const error = await errorOf(client.login({ email, password: PASSWORD }));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error");
  });
});

describe("RefreshToken", () => {
  test("rotates; the old token within the grace window gets the same successor, after it the reuse revokes the family", async () => {
    const { refreshToken: first } = await registerUser();
    const second = await auth.refreshToken({ refreshToken: first });
    expect(second.refreshToken).not.toBe(first);
    expect(second.tokenType).toBe("Bearer");
    expect((await auth.verifyToken({ token: second.accessToken })).userId).toBe(second.user!.id);
    // Two tabs at once: the parent again, within the window, yields the same child.
    expect((await auth.refreshToken({ refreshToken: first })).refreshToken).toBe(second.refreshToken);

    await Bun.sleep(GRACE_SECONDS * 1000 + 100);
    const reuse = await errorOf(auth.refreshToken({ refreshToken: first }));
    expect(reuse.code).toBe(Code.Unauthenticated);
    expect((await errorOf(auth.refreshToken({ refreshToken: second.refreshToken }))).code).toBe(Code.Unauthenticated);
  });

  test("a rotated-out token is refused once its successor has been used", async () => {
    const { refreshToken: first } = await registerUser();
    const second = await auth.refreshToken({ refreshToken: first });
    const third = await auth.refreshToken({ refreshToken: second.refreshToken });
    expect((await errorOf(auth.refreshToken({ refreshToken: first }))).code).toBe(Code.Unauthenticated);
    // ...and that reuse ended the family.
    expect((await errorOf(auth.refreshToken({ refreshToken: third.refreshToken }))).code).toBe(Code.Unauthenticated);
  });

  test("issues the token from current user data: a role change shows up", async () => {
    const { user, refreshToken } = await registerUser();
    await svc.users.updateUser({ id: user!.id, role: "admin", name: "Renamed" });
    const refreshed = await auth.refreshToken({ refreshToken });
    expect(refreshed.user).toMatchObject({ role: "admin", name: "Renamed" });
    expect((await auth.verifyToken({ token: refreshed.accessToken })).role).toBe("admin");
  });

  test("10 concurrent refreshes of one token leave at most one live family member", async () => {
    const { refreshToken } = await registerUser();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => auth.refreshToken({ refreshToken })));
    const tokens = new Set(results.flatMap((r) => (r.status === "fulfilled" ? [r.value.refreshToken] : [])));
    expect(tokens.size).toBeLessThanOrEqual(1);
    for (const r of results) if (r.status === "rejected") expect(ConnectError.from(r.reason).code).toBe(Code.Unauthenticated);
  });

  test("malformed refresh tokens of any size are Unauthenticated", async () => {
    for (const refreshToken of ["", "x", "A".repeat(43), "x".repeat(100 * 1024)]) {
      expect((await errorOf(auth.refreshToken({ refreshToken }))).code).toBe(Code.Unauthenticated);
    }
  });
});

describe("Logout", () => {
  test("revokes the access token and the refresh family: VerifyToken and RefreshToken fail after", async () => {
    const email = uniqueEmail();
    await registerUser(email);
    const session = await auth.login({ email, password: PASSWORD });
    const other = await auth.login({ email, password: PASSWORD }); // another device
    await auth.logout({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    expect((await errorOf(auth.verifyToken({ token: session.accessToken }))).code).toBe(Code.Unauthenticated);
    expect((await errorOf(auth.refreshToken({ refreshToken: session.refreshToken }))).code).toBe(Code.Unauthenticated);
    // The other session is untouched, and logging out twice is harmless.
    expect((await auth.verifyToken({ token: other.accessToken })).email).toBe(email);
    await auth.refreshToken({ refreshToken: other.refreshToken });
    await auth.logout({ accessToken: session.accessToken, refreshToken: session.refreshToken });
  });

  test("needs at least one token, and refuses a forged access token", async () => {
    expect((await errorOf(auth.logout({}))).code).toBe(Code.InvalidArgument);
    expect((await errorOf(auth.logout({ accessToken: "x".repeat(100 * 1024) }))).code).toBe(Code.Unauthenticated);
  });
});

describe("deleted users", () => {
  test("a soft-deleted user's access token fails VerifyToken and their refresh token fails, even after a restore", async () => {
    const { user, accessToken, refreshToken } = await registerUser();
    await Bun.sleep(5);
    await svc.users.deleteUser({ id: user!.id });
    expect((await errorOf(auth.verifyToken({ token: accessToken }))).code).toBe(Code.Unauthenticated);
    expect((await errorOf(auth.refreshToken({ refreshToken }))).code).toBe(Code.Unauthenticated);
    await svc.users.restoreUser({ id: user!.id });
    expect((await errorOf(auth.refreshToken({ refreshToken }))).code).toBe(Code.Unauthenticated);
  });

  test("a user deleted, restored and signed in again within one second gets tokens that work", async () => {
    const email = uniqueEmail();
    const { user } = await registerUser(email);
    // Start at the top of a second, so the delete and the new sign-in share one iat second.
    await Bun.sleep(1000 - (Date.now() % 1000));
    await svc.users.deleteUser({ id: user!.id });
    await svc.users.restoreUser({ id: user!.id });
    const again = await auth.login({ email, password: PASSWORD });
    expect((await auth.verifyToken({ token: again.accessToken })).userId).toBe(user!.id);
    expect((await auth.refreshToken({ refreshToken: again.refreshToken })).accessToken).not.toBe("");
  });

  test("a hard-deleted user's tokens fail the same way", async () => {
    const { user, accessToken, refreshToken } = await registerUser();
    await svc.users.hardDeleteUser({ id: user!.id });
    expect((await errorOf(auth.verifyToken({ token: accessToken }))).code).toBe(Code.Unauthenticated);
    expect((await errorOf(auth.refreshToken({ refreshToken }))).code).toBe(Code.Unauthenticated);
  });
});

test("VerifyToken refuses malformed tokens of any size with Unauthenticated, never Internal", async () => {
  for (const token of ["", "a.b.c", "x".repeat(9000), "A".repeat(100 * 1024), "😀".repeat(1000)]) {
    expect((await errorOf(auth.verifyToken({ token }))).code).toBe(Code.Unauthenticated);
  }
});
