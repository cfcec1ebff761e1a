// A real SMTP server for the mail suites: Debian's aiosmtpd (python3-aiosmtpd), started on a free
// loopback port with its Mailbox handler, which records every message it accepts in a Maildir.
// stop() and start() again on the same port simulate an outage.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./binaries.ts";

/** aiosmtpdPython is a python3 that can import aiosmtpd (Debian's first), or undefined. */
export const aiosmtpdPython: string | undefined = ["/usr/bin/python3", "python3"].find(
  (python) => Bun.spawnSync([python, "-c", "import aiosmtpd"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0,
);
if (!aiosmtpdPython) console.log("[mail] SMTP suites skipped: no python3 with aiosmtpd (apt-get install python3-aiosmtpd)");

export type ReceivedMail = { to: string; subject: string; text: string; html: string; raw: string };

export type SmtpServer = {
  port: number;
  url: string;
  /** start (again) listening on the same port. */
  start(): Promise<void>;
  /** stop ends the server: connections are refused until start(). */
  stop(): Promise<void>;
  /** messages are every message received so far, oldest first. */
  messages(): ReceivedMail[];
  /** waitFor resolves with the first message matching, failing after ms. */
  waitFor(match: (mail: ReceivedMail) => boolean, ms?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
};

/** startSmtpServer runs aiosmtpd on a free port and records what it receives. */
export async function startSmtpServer(): Promise<SmtpServer> {
  if (!aiosmtpdPython) throw new Error("aiosmtpd is not installed");
  const python = aiosmtpdPython;
  const [port] = freePorts(1) as [number];
  const root = mkdtempSync(join(tmpdir(), "smtp-"));
  const maildir = join(root, "maildir"); // the Mailbox handler creates it (cur/, new/, tmp/)
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  const server: SmtpServer = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    async start() {
      proc = Bun.spawn([python, "-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", "aiosmtpd.handlers.Mailbox", maildir], {
        stdout: "ignore",
        stderr: "ignore",
      });
      const deadline = performance.now() + 10_000;
      while (!(await accepts(port))) {
        if (performance.now() > deadline || proc.exitCode !== null) throw new Error(`aiosmtpd did not listen on ${port}`);
        await Bun.sleep(50);
      }
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGKILL");
      await proc.exited;
      proc = undefined;
    },
    messages() {
      const dir = join(maildir, "new");
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .sort()
        .map((name) => parseMail(readFileSync(join(dir, name), "utf8")));
    },
    async waitFor(match, ms = 20_000) {
      const deadline = performance.now() + ms;
      for (;;) {
        const found = server.messages().find(match);
        if (found) return found;
        if (performance.now() > deadline)
          throw new Error(`no matching mail within ${ms} ms; received: ${server.messages().map((m) => `${m.to}: ${m.subject}`)}`);
        await Bun.sleep(50);
      }
    },
    async close() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** parseMail reads a MIME message as nodemailer writes it: headers, and the text and HTML parts decoded. */
export function parseMail(raw: string): ReceivedMail {
  const [head = "", ...rest] = raw.replaceAll("\r\n", "\n").split("\n\n");
  const headers = parseHeaders(head);
  const body = rest.join("\n\n");
  const parts: Record<string, string> = {};
  const boundary = /boundary="?([^";\n]+)"?/.exec(headers["content-type"] ?? "")?.[1];
  const chunks = boundary ? body.split(`--${boundary}`).slice(1, -1) : [`${head}\n\n${body}`];
  for (const chunk of chunks) {
    const [partHead = "", ...partBody] = chunk.replace(/^\n/, "").split("\n\n");
    const h = parseHeaders(partHead);
    const type = (h["content-type"] ?? "text/plain").split(";")[0]?.trim() ?? "text/plain";
    parts[type] = decode(partBody.join("\n\n"), h["content-transfer-encoding"] ?? "7bit");
  }
  return {
    to: headers.to ?? "",
    subject: headers.subject ?? "",
    text: parts["text/plain"] ?? "",
    html: parts["text/html"] ?? "",
    raw,
  };
}

function parseHeaders(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

function decode(body: string, encoding: string): string {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body.replace(/=\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

/** tokenOf is the token in a mail's link (its fragment), or undefined. */
export const tokenOf = (mail: ReceivedMail) => /#token=([A-Za-z0-9_-]{43})\b/.exec(mail.text)?.[1];
