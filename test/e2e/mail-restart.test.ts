// No mail is lost when the sending process stops: with SMTP down, a password reset is asked for,
// the combined binary's first attempt fails and the job waits in Redis for its retry; the process is
// killed (SIGKILL), SMTP comes back, a new process starts on the same Redis and sends the mail,
// whose link then works.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testDatabaseUrl, testRedisUrl } from "../backends.ts";
import { cleanup, http, PASSWORD, startBinary, uniqueEmail } from "../binaries.ts";
import { createTestDatabase, type TestDatabase } from "../databases.ts";
import { aiosmtpdPython, type SmtpServer, startSmtpServer, tokenOf } from "../smtp-server.ts";

setDefaultTimeout(90_000);

const missing = !aiosmtpdPython ? "aiosmtpd" : !testDatabaseUrl() ? "PostgreSQL" : !testRedisUrl() ? "Redis" : undefined;
if (missing) console.log(`[mail-restart e2e] skipped: needs ${missing}`);

let db: TestDatabase | undefined;
let smtp: SmtpServer | undefined;
afterAll(async () => {
  await cleanup();
  await smtp?.close();
  await db?.drop();
});

async function until(check: () => boolean, what: string, ms = 30_000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe.skipIf(!!missing)("mail across a restart of the sending process", () => {
  test("asked for while SMTP is down, sent by the next process once SMTP is back; the link works", async () => {
    db = await createTestDatabase("e2e_mail_restart");
    smtp = await startSmtpServer();
    await smtp.stop();
    const env = { DATABASE_URL: db.url, REDIS_URL: testRedisUrl(), SMTP_URL: smtp.url, PUBLIC_BASE_URL: "https://app.example.com" };

    const first = await startBinary("combined", env);
    const email = uniqueEmail("restart");
    const api = http(first.url);
    expect((await api("/auth/register", { body: { email, password: PASSWORD, name: "Restart" } })).status).toBe(201);
    expect((await api("/auth/password/forgot", { body: { email } })).status).toBe(202);
    // Both jobs (verification and reset) tried once and failed: they wait in Redis for their retry.
    await until(() => (first.stderr().match(/job attempt failed/g) ?? []).length >= 2, "the first failed attempts");
    await first.kill();

    await smtp.start();
    const second = await startBinary("combined", env);
    const reset = await smtp.waitFor((mail) => mail.to === email && /Reset your/.test(mail.subject), 45_000);
    await smtp.waitFor((mail) => mail.to === email && /Confirm your email address/.test(mail.subject), 45_000);
    const token = tokenOf(reset);
    expect(token).toBeDefined();
    expect(first.stderr()).not.toContain(token!);
    expect(second.stderr()).not.toContain(token!);

    const again = http(second.url);
    expect((await again("/auth/password/reset", { body: { token, password: "set after a restart" } })).status).toBe(204);
    expect((await again("/auth/login", { body: { email, password: "set after a restart" } })).status).toBe(200);
    expect(await second.stop()).toBe(0);
  });
});
