// SIGTERM while requests are in flight: the process stops accepting connections at once, lets the
// requests it already has finish with their normal answers, then exits 0 — and when a request is
// stuck past SHUTDOWN_TIMEOUT_SECONDS, it still exits in bounded time. The requests are held in
// flight deterministically by a lock on the users table (see table-lock.ts), so "in flight" is
// observed in pg_stat_activity rather than guessed with a sleep.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { UserService } from "../../gen/user/v1/user_pb.ts";
import { sendCredential } from "../../lib/rpc/callers.ts";
import { createRpcTransport } from "../../lib/rpc/client.ts";
import { testDatabaseUrl } from "../backends.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { bodyOf, jsonInit, PASSWORD, uniqueEmail, type Session } from "../stack.ts";
import { CREDENTIALS, call, cleanup, exitWithin, startBinary } from "../binaries.ts";
import { connectionRefused, timed } from "./probes.ts";
import { within } from "../wait.ts";
import { lockUsersTable } from "./table-lock.ts";

if (!testDatabaseUrl()) console.log("[fault: sigterm] skipped: needs PostgreSQL (TEST_DATABASE_URL)");

const IN_FLIGHT = 4;
// Past SHUTDOWN_TIMEOUT_SECONDS the servers give up on their calls; closing the database then
// waits 2 s at most for the queries of those calls (lib/db/database.ts).
const EXIT_BOUND_MS = 1000 + 2000 + 3000;

describe.skipIf(!testDatabaseUrl())("SIGTERM during in-flight requests", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("fault_sigterm");
  });
  afterAll(async () => {
    await cleanup();
    await db?.drop();
  });

  const refusedSoon = (url: string) =>
    within(3000, "new connections refused", async () => {
      if (!(await connectionRefused(url))) throw new Error("still accepted");
    });

  test("combined serve: in-flight registrations finish with 201, new connections are refused, exit code 0", async () => {
    const app = await startBinary("combined", { DATABASE_URL: db.url, RATE_LIMIT_AUTH_REQUESTS: "1000" });
    const lock = await lockUsersTable(db.url ?? "");
    const emails = Array.from({ length: IN_FLIGHT }, () => uniqueEmail("drain"));
    try {
      const pending = emails.map((email) =>
        timed(() => call(app.url, "/auth/register", jsonInit("POST", { email, password: PASSWORD, name: "Drain" }))),
      );
      await lock.waitFor(IN_FLIGHT); // each is inside the stack, its INSERT waiting for the lock
      app.signal("SIGTERM");
      await refusedSoon(app.url);
      expect(app.running()).toBe(true); // still draining
      await lock.release();

      const answers = await Promise.all(pending);
      for (const [i, { value: res }] of answers.entries()) {
        expect(res.status).toBe(201);
        expect((await bodyOf<Session>(res)).user.email).toBe(emails[i] ?? "");
      }
    } finally {
      await lock.release();
    }
    expect(await exitWithin(app, 10_000)).toBe(0);
    expect(app.output()).toContain("SIGTERM received");
    expect(app.output()).not.toContain('"level":"error"');
  }, 30_000);

  test("user service over gRPC: in-flight GetUser calls finish OK, new connections are refused, exit code 0", async () => {
    const service = await startBinary("user", { DATABASE_URL: db.url });
    const users = createClient(
      UserService,
      createRpcTransport(service.url, { timeoutMs: 15_000, protocol: "grpc", interceptors: [sendCredential(CREDENTIALS.OPERATOR_TOKEN)] }),
    );
    const created = await Promise.all(
      Array.from({ length: IN_FLIGHT }, () =>
        users.createUser({ email: uniqueEmail("grpc"), name: "Drain", passwordHash: "not-a-real-hash" }),
      ),
    );
    const lock = await lockUsersTable(db.url ?? "");
    try {
      const pending = created.map(({ id }) => users.getUser({ id })); // not cached yet: each asks the database
      await lock.waitFor(IN_FLIGHT);
      service.signal("SIGTERM");
      await refusedSoon(service.url);
      expect(service.running()).toBe(true);
      await lock.release();
      expect((await Promise.all(pending)).map((user) => user.email)).toEqual(created.map((user) => user.email));
    } finally {
      await lock.release();
    }
    expect(await exitWithin(service, 10_000)).toBe(0);
    expect(service.output()).not.toContain('"level":"error"');
  }, 30_000);

  test("combined serve: a request stuck past SHUTDOWN_TIMEOUT_SECONDS is cut off and the process still exits", async () => {
    const app = await startBinary("combined", { DATABASE_URL: db.url, RATE_LIMIT_AUTH_REQUESTS: "1000", SHUTDOWN_TIMEOUT_SECONDS: "1" });
    const lock = await lockUsersTable(db.url ?? "");
    try {
      const stuck = call(
        app.url,
        "/auth/register",
        jsonInit("POST", { email: uniqueEmail("stuck"), password: PASSWORD, name: "Stuck" }),
      ).then(
        (res) => res.status,
        () => "cut off",
      );
      await lock.waitFor(1);
      app.signal("SIGTERM");
      const { value: code, ms } = await timed(() => exitWithin(app, EXIT_BOUND_MS + 5000));
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
      expect(code).toBe(1); // not a clean drain: a query was abandoned
      expect(app.output()).toContain("abandoned queries still running");
      expect(await stuck).toBe("cut off");
    } finally {
      await lock.release();
    }
  }, 30_000);

  test("user service: a call stuck past SHUTDOWN_TIMEOUT_SECONDS answers Unavailable and the process still exits", async () => {
    const service = await startBinary("user", { DATABASE_URL: db.url, SHUTDOWN_TIMEOUT_SECONDS: "1" });
    const users = createClient(
      UserService,
      createRpcTransport(service.url, { timeoutMs: 15_000, protocol: "grpc", interceptors: [sendCredential(CREDENTIALS.OPERATOR_TOKEN)] }),
    );
    const lock = await lockUsersTable(db.url ?? "");
    try {
      const stuck = users.getUser({ id: crypto.randomUUID() }).then(
        () => "answered",
        (error: unknown) => Code[ConnectError.from(error).code],
      );
      await lock.waitFor(1);
      service.signal("SIGTERM");
      const { value: code, ms } = await timed(() => exitWithin(service, EXIT_BOUND_MS + 5000));
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
      expect(code).toBe(1);
      expect(await stuck).toBe("Unavailable");
    } finally {
      await lock.release();
    }
  }, 30_000);
});
