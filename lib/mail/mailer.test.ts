import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../test/binaries.ts";
import { aiosmtpdPython, parseMail, type SmtpServer, startSmtpServer } from "../../test/smtp-server.ts";
import type { Logger } from "../log.ts";
import { createMailer } from "./mailer.ts";

const mail = {
  to: "ada@example.com",
  subject: "Hello",
  text: "Open https://app.example.com/x#token=abc",
  html: "<p>Hello</p>",
  link: "https://app.example.com/x#token=abc",
};

function capturingLog() {
  const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
  const write = (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ msg, fields });
  };
  const log: Logger = { debug: write, info: write, warn: write, error: write, child: () => log, enabled: () => true };
  return { log, lines };
}

const dir = mkdtempSync(join(tmpdir(), "mailer-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("without SMTP_URL, send writes a .eml under the outbox (text and HTML parts) and logs where, and the link", async () => {
  const outboxDir = join(dir, "outbox");
  const { log, lines } = capturingLog();
  const mailer = createMailer({ from: "App <no-reply@example.com>", outboxDir, log });
  expect(mailer.describe()).toContain(outboxDir);
  await mailer.send(mail);
  const files = readdirSync(outboxDir);
  expect(files).toHaveLength(1);
  expect(files[0]).toEndWith(".eml");
  const parsed = parseMail(readFileSync(join(outboxDir, files[0]!), "utf8"));
  expect({ to: parsed.to, subject: parsed.subject, text: parsed.text.trim(), html: parsed.html.trim() }).toEqual({
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
  });
  expect(parsed.raw).toContain("From: App <no-reply@example.com>");
  expect(lines).toEqual([
    {
      msg: "development outbox: mail written",
      fields: { to: mail.to, subject: mail.subject, file: join(outboxDir, files[0]!), link: mail.link },
    },
  ]);
});

test("an SMTP mailer describes its server without the credentials, and a refused connection rejects the send", async () => {
  const [port] = freePorts(1);
  const mailer = createMailer({
    smtpUrl: `smtp://user:s3cret@127.0.0.1:${port}`,
    from: "a@example.com",
    outboxDir: dir,
    log: capturingLog().log,
  });
  expect(mailer.describe()).toBe(`smtp://127.0.0.1:${port}`);
  await expect(mailer.send(mail)).rejects.toThrow();
  mailer.close();
});

describe.skipIf(!aiosmtpdPython)("over SMTP (aiosmtpd)", () => {
  let smtp: SmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp.close());

  test("send delivers the message with both bodies and logs nothing", async () => {
    const { log, lines } = capturingLog();
    const mailer = createMailer({ smtpUrl: smtp.url, from: "App <no-reply@example.com>", outboxDir: dir, log });
    await mailer.send(mail);
    const received = await smtp.waitFor((m) => m.to === mail.to);
    expect({ subject: received.subject, text: received.text.trim(), html: received.html.trim() }).toEqual({
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
    expect(lines).toEqual([]);
    mailer.close();
  });
});
