// The mailed account flows end to end against a real SMTP server (aiosmtpd): the gateway, both
// services in process, real PostgreSQL and Redis (or the embedded ones), and the auth service's mail
// worker sending over SMTP.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { aiosmtpdPython, type ReceivedMail, type SmtpServer, startSmtpServer, tokenOf } from "../../../test/smtp-server.ts";
import {
  bearer,
  bodyOf,
  expectProblem,
  jsonInit,
  PASSWORD,
  type Session,
  startTestStack,
  type TestStack,
  uniqueEmail,
} from "../../../test/stack.ts";
import { UNLIMITED_AUTH_LIMITS } from "../../../test/services.ts";

setDefaultTimeout(30_000);

let smtp: SmtpServer;
let stack: TestStack;
let strict: TestStack;
beforeAll(async () => {
  if (!aiosmtpdPython) return;
  smtp = await startSmtpServer();
  const limits = {
    ...UNLIMITED_AUTH_LIMITS,
    mail: { perEmail: { max: 3, windowSeconds: 3600 }, perAddress: { max: 1000, windowSeconds: 3600 } },
  };
  stack = await startTestStack({}, limits, { smtpUrl: smtp.url });
  strict = await startTestStack({}, limits, { smtpUrl: smtp.url, requireVerifiedEmail: true });
});
afterAll(async () => {
  await stack?.close();
  await strict?.close();
  await smtp?.close();
});

const post = (s: TestStack, path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.fetch(path, jsonInit("POST", body, headers));
const mailTo = (to: string, subject: RegExp) => smtp.waitFor((mail) => mail.to === to && subject.test(mail.subject));
const tokenIn = (mail: ReceivedMail) => {
  const token = tokenOf(mail);
  if (!token) throw new Error(`no token link in: ${mail.text}`);
  return token;
};
// Two problems are "the same answer" when all but where and which request match.
const sameAnswer = ({ instance: _, request_id: __, ...rest }: Record<string, unknown>) => rest;

describe.skipIf(!aiosmtpdPython)("email verification", () => {
  test("register mails a link (text and HTML, token in the fragment); verifying it sets email_verified_at, once", async () => {
    const session = await stack.register();
    const mail = await mailTo(session.user.email, /Confirm your email address/);
    const token = tokenIn(mail);
    expect(mail.text).toContain(`https://app.example.com/verify-email#token=${token}`);
    expect(mail.html).toContain(`href="https://app.example.com/verify-email#token=${token}"`);
    expect(session.user.email_verified_at).toBeNull();

    const res = await post(stack, "/auth/email/verify", { token });
    expect(res.status).toBe(200);
    const user = await bodyOf<Session["user"]>(res);
    expect(user.id).toBe(session.user.id);
    expect(new Date(user.email_verified_at ?? "").getTime()).toBeGreaterThan(Date.now() - 60_000);
    const me = await bodyOf<Session["user"]>(await stack.fetch("/users/me", { headers: bearer(session) }));
    expect(me.email_verified_at).toBe(user.email_verified_at);

    const reused = await expectProblem(await post(stack, "/auth/email/verify", { token }), 422);
    const unknown = await expectProblem(await post(stack, "/auth/email/verify", { token: "A".repeat(43) }), 422);
    expect(reused.type).toBe("/problems/invalid-token");
    expect(sameAnswer(reused)).toEqual(sameAnswer(unknown));
  });

  test("resend mails a new link to a signed-in user; once verified it answers 409", async () => {
    const session = await stack.register();
    await mailTo(session.user.email, /Confirm your email address/);
    const res = await stack.fetch("/auth/email/verify/resend", { method: "POST", headers: bearer(session) });
    expect(res.status).toBe(202);
    await smtp.waitFor(() => smtp.messages().filter((m) => m.to === session.user.email).length === 2);
    const [first, second] = smtp.messages().filter((m) => m.to === session.user.email) as [ReceivedMail, ReceivedMail];
    expect(tokenIn(first)).not.toBe(tokenIn(second));
    expect((await post(stack, "/auth/email/verify", { token: tokenIn(second) })).status).toBe(200);
    await expectProblem(await stack.fetch("/auth/email/verify/resend", { method: "POST", headers: bearer(session) }), 409);
    await expectProblem(await stack.fetch("/auth/email/verify/resend", { method: "POST" }), 401);
  });

  test("REQUIRE_VERIFIED_EMAIL: an unverified login is a 403 with its own type, a verified one signs in", async () => {
    const email = uniqueEmail("strict");
    const registered = await post(strict, "/auth/register", { email, password: PASSWORD, name: "Strict" });
    expect(registered.status).toBe(201);
    const denied = await expectProblem(await post(strict, "/auth/login", { email, password: PASSWORD }), 403);
    expect(denied.type).toBe("/problems/email-not-verified");
    // A wrong password still gets the plain 401: the 403 says nothing before the password is right.
    await expectProblem(await post(strict, "/auth/login", { email, password: "not the password" }), 401);
    const token = tokenIn(await mailTo(email, /Confirm your email address/));
    expect((await post(strict, "/auth/email/verify", { token })).status).toBe(200);
    expect((await post(strict, "/auth/login", { email, password: PASSWORD })).status).toBe(200);
  });
});

describe.skipIf(!aiosmtpdPython)("password reset", () => {
  test("forgot → mail → reset: the new password works; the old one, every old session and the token's reuse are refused", async () => {
    const first = await stack.register();
    const second = await stack.login(first.user.email);
    expect((await post(stack, "/auth/password/forgot", { email: first.user.email.toUpperCase() })).status).toBe(202);
    const mail = await mailTo(first.user.email, /Reset your/);
    const token = tokenIn(mail);
    expect(mail.text).toContain(`https://app.example.com/reset-password#token=${token}`);

    const reset = await post(stack, "/auth/password/reset", { token, password: "a brand new passphrase" });
    expect(reset.status).toBe(204);
    await expectProblem(await post(stack, "/auth/login", { email: first.user.email, password: PASSWORD }), 401);
    for (const session of [first, second]) {
      await expectProblem(await stack.fetch("/users/me", { headers: bearer(session) }), 401);
      await expectProblem(await post(stack, "/auth/refresh", { refresh_token: session.refresh_token }), 401);
    }
    const fresh = await stack.login(first.user.email, "a brand new passphrase");
    // The link reached the address: it counts as verified.
    expect(fresh.user.email_verified_at).not.toBeNull();

    const reused = await expectProblem(await post(stack, "/auth/password/reset", { token, password: "yet another passphrase" }), 422);
    const unknown = await expectProblem(
      await post(stack, "/auth/password/reset", { token: "B".repeat(43), password: "x".repeat(12) }),
      422,
    );
    expect(reused.type).toBe("/problems/invalid-token");
    expect(sameAnswer(reused)).toEqual(sameAnswer(unknown));
    expect((await stack.login(first.user.email, "a brand new passphrase")).user.id).toBe(first.user.id);
  });

  test("a reset link dies when the password changes another way", async () => {
    const session = await stack.register();
    await post(stack, "/auth/password/forgot", { email: session.user.email });
    const token = tokenIn(await mailTo(session.user.email, /Reset your/));
    const change = await stack.fetch(
      `/users/${session.user.id}`,
      jsonInit("PUT", { password: "changed in the meantime", current_password: PASSWORD }, bearer(session)),
    );
    expect(change.status).toBe(200);
    const problem = await expectProblem(await post(stack, "/auth/password/reset", { token, password: "attacker's choice" }), 422);
    expect(problem.type).toBe("/problems/invalid-token");
  });

  test("an unknown email gets the same 202 and no mail", async () => {
    const nobody = uniqueEmail("nobody");
    const known = await stack.register();
    const unknownRes = await post(stack, "/auth/password/forgot", { email: nobody });
    const knownRes = await post(stack, "/auth/password/forgot", { email: known.user.email });
    expect([unknownRes.status, await unknownRes.text()]).toEqual([knownRes.status, await knownRes.text()]);
    expect(unknownRes.status).toBe(202);
    // The known address's mail was queued after the unknown one's job, so that job is done too.
    await mailTo(known.user.email, /Reset your/);
    await Bun.sleep(300);
    expect(smtp.messages().filter((m) => m.to === nobody)).toEqual([]);
  });

  test("forgot is limited per email, known or not: the 4th in the window is 429", async () => {
    for (const email of [uniqueEmail("limited"), (await stack.register()).user.email]) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(stack, "/auth/password/forgot", { email })).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
    }
  });

  test("with SMTP stopped the request still answers 202, and the mail arrives once SMTP is back", async () => {
    const session = await stack.register();
    await mailTo(session.user.email, /Confirm your email address/);
    await smtp.stop();
    try {
      const res = await post(stack, "/auth/password/forgot", { email: session.user.email });
      expect(res.status).toBe(202);
      await Bun.sleep(700); // a few attempts fail meanwhile
      expect(smtp.messages().filter((m) => /Reset your/.test(m.subject) && m.to === session.user.email)).toEqual([]);
    } finally {
      await smtp.start();
    }
    const token = tokenIn(await mailTo(session.user.email, /Reset your/));
    expect((await post(stack, "/auth/password/reset", { token, password: "after the outage" })).status).toBe(204);
  });
});

describe.skipIf(!aiosmtpdPython)("email change", () => {
  test("a user's own new email waits for the link mailed to it; then it applies, verified, and the old address is told", async () => {
    const session = await stack.register();
    const oldEmail = session.user.email;
    const newEmail = uniqueEmail("moved");
    const res = await stack.fetch(
      `/users/${session.user.id}`,
      jsonInit("PUT", { email: newEmail, current_password: PASSWORD }, bearer(session)),
    );
    expect(res.status).toBe(200);
    const body = await bodyOf<Session["user"] & { pending_email?: string }>(res);
    expect({ email: body.email, pending_email: body.pending_email }).toEqual({ email: oldEmail, pending_email: newEmail });

    const token = tokenIn(await mailTo(newEmail, /Confirm your new email address/));
    const verified = await post(stack, "/auth/email/verify", { token });
    expect(verified.status).toBe(200);
    const user = await bodyOf<Session["user"]>(verified);
    expect(user.email).toBe(newEmail);
    expect(user.email_verified_at).not.toBeNull();
    const notice = await mailTo(oldEmail, /email address was changed/);
    expect(notice.text).toContain(newEmail);
    expect((await stack.login(newEmail)).user.id).toBe(session.user.id);
  });

  test("a new email needs the current password, and one another user has is a 409", async () => {
    const session = await stack.register();
    const other = await stack.register();
    await expectProblem(await stack.fetch(`/users/${session.user.id}`, jsonInit("PUT", { email: uniqueEmail() }, bearer(session))), 422);
    await expectProblem(
      await stack.fetch(
        `/users/${session.user.id}`,
        jsonInit("PUT", { email: other.user.email, current_password: PASSWORD }, bearer(session)),
      ),
      409,
    );
  });
});
