// Sending mail: nodemailer over SMTP (SMTP_URL), or in development a file outbox — one .eml per
// message under DATA_DIR/outbox/ and its link in the log — so every flow can be clicked through
// with no mail server. Callers queue mail (lib/queue) and send from a worker: a send may be slow
// or fail, and the queue retries it.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";
import type { Logger } from "../log.ts";

/** Mail is one message: plain text and HTML bodies; link is the action the message carries. */
export type Mail = { to: string; subject: string; text: string; html: string; link?: string };

export type Mailer = {
  /** send delivers one message; rejects when the server refuses it or can't be reached. */
  send(mail: Mail): Promise<void>;
  describe(): string;
  close(): void;
};

export type MailerOptions = {
  /** smtpUrl selects SMTP; unset writes the development outbox. */
  smtpUrl?: string;
  from: string;
  /** outboxDir is where the development outbox writes (DATA_DIR/outbox). */
  outboxDir: string;
  log: Logger;
  /** timeoutMs bounds connecting, the greeting and each socket wait (default 10 s): a hung server fails the attempt. */
  timeoutMs?: number;
};

/** createMailer builds the SMTP sender, or the development outbox when smtpUrl is unset. */
export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? smtpMailer(options.smtpUrl, options) : outboxMailer(options);
}

function smtpMailer(url: string, { from, timeoutMs = 10_000 }: MailerOptions): Mailer {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const { hostname, port, protocol } = new URL(url);
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    // Never the credentials in the URL.
    describe: () => `${protocol}//${hostname}:${port || (protocol === "smtps:" ? 465 : 587)}`,
    close: () => transport.close(),
  };
}

function outboxMailer({ from, outboxDir, log }: MailerOptions): Mailer {
  // The same MIME message SMTP would carry, built by nodemailer without a server.
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  let sequence = 0;
  return {
    async send(mail) {
      const info = await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
      await mkdir(outboxDir, { recursive: true });
      const file = join(outboxDir, `${new Date().toISOString().replaceAll(":", "-")}-${++sequence}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      // Development only (no SMTP_URL, not production): the link is what a newcomer clicks.
      log.info("development outbox: mail written", { to: mail.to, subject: mail.subject, file, link: mail.link });
    },
    describe: () => `development outbox ${outboxDir} (set SMTP_URL to send)`,
    close: () => {},
  };
}
