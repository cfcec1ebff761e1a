// A change whose revocation marks can't be recorded (Redis down) is not made and not reported
// done: Unavailable, and the database is as before.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Code, createClient } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { CacheUnavailableError } from "../../lib/redis/errors.ts";
import type { Revocations } from "../../lib/tokens/revocation.ts";
import { codeOf } from "../../test/rpc.ts";
import { inProcessTransport, silentLog, startTestUserService, type TestUserService } from "../../test/services.ts";
import { userRoutes } from "./user.rpc.ts";

let svc: TestUserService;
beforeAll(async () => {
  svc = await startTestUserService();
});
afterAll(() => svc.close());

const down = async (): Promise<never> => {
  throw new CacheUnavailableError("redis is unavailable");
};
const unrecordable: Revocations = {
  endSession: down,
  voidAccessTokens: down,
  endAllSessions: down,
  accessMark: down,
  sessionEnded: down,
  sessionsEnded: down,
};
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

test("a role, email or password change, a delete and a hard delete answer Unavailable and change nothing", async () => {
  const routes = userRoutes({ prisma: svc.db.prisma, cache: svc.store, log: silentLog, revocations: unrecordable });
  const failing = createClient(UserService, inProcessTransport(routes, {}));
  const user = await svc.users.createUser({
    email: `revoke-${crypto.randomUUID().slice(0, 8)}@example.com`,
    passwordHash: HASH,
    name: "R",
  });
  expect(await codeOf(failing.updateUser({ id: user.id, role: "admin" }))).toBe(Code.Unavailable);
  expect(await codeOf(failing.updateUser({ id: user.id, email: `other-${user.email}` }))).toBe(Code.Unavailable);
  expect(await codeOf(failing.updateUser({ id: user.id, passwordHash: `${HASH}x` }))).toBe(Code.Unavailable);
  expect(await codeOf(failing.deleteUser({ id: user.id }))).toBe(Code.Unavailable);
  expect(await codeOf(failing.hardDeleteUser({ id: user.id }))).toBe(Code.Unavailable);
  const after = await svc.internal.getUserByEmailInternal({ email: user.email });
  expect({ role: after.role, email: after.email, passwordHash: after.passwordHash, deletedAt: after.deletedAt }).toEqual({
    role: "user",
    email: user.email,
    passwordHash: HASH,
    deletedAt: undefined,
  });
  // A change that voids nothing (a name) needs no mark and goes through.
  expect((await failing.updateUser({ id: user.id, name: "Renamed" })).name).toBe("Renamed");
});
