// The mail queue's jobs and what the worker does with each. Jobs carry ids and addresses, never a
// token: the worker looks the user up and issues the token when it sends, so a request that asks
// for a mail costs the same whether or not the account exists, and no token waits in Redis in
// clear while SMTP is down. A retried send issues a fresh token; an unused one just expires.
import type { Client } from "@connectrpc/connect";
import type { UserService } from "../../gen/user/v1/user_pb.ts";
import type { Logger } from "../../lib/log.ts";
import type { Mail, Mailer } from "../../lib/mail/mailer.ts";
import type { JobQueue } from "../../lib/queue/queue.ts";
import { fromUserService } from "./auth.ts";
import { emailChangedMail, emailChangeMail, resetMail, verificationMail } from "./mail-templates.ts";
import { type OneTimeTokens, passwordFingerprint, type TokenTtls } from "./one-time-tokens.ts";

export type MailJob =
  | { kind: "password_reset"; email: string }
  | { kind: "verify_email"; userId: string; email: string }
  | { kind: "confirm_email_change"; userId: string; email: string; newEmail: string }
  | { kind: "email_changed"; to: string; newEmail: string };

export type MailQueue = JobQueue<MailJob>;

/** LINK_PATHS are where PUBLIC_BASE_URL's frontend takes the token from the fragment (`#token=…`). */
export const LINK_PATHS = { password_reset: "/reset-password", email_verification: "/verify-email" } as const;

export type MailWorkerDeps = {
  users: Client<typeof UserService>;
  oneTimeTokens: OneTimeTokens;
  ttls: TokenTtls;
  mailer: Mailer;
  publicBaseUrl: string;
  log: Logger;
};

/**
 * link puts the token in the fragment: browsers never send a fragment to a server, so it stays out
 * of access logs, proxy logs and Referer headers; the page's script reads it and POSTs it.
 */
export const link = (base: string, path: string, token: string) => `${base}${path}#token=${token}`;

/** sendAccountMail runs one job: look up, issue a token, render and send. A throw (the user service
 * or SMTP down) is retried by the queue. */
export function sendAccountMail(deps: MailWorkerDeps) {
  const hours = (seconds: number) => Math.round(seconds / 3600);
  const send = async (mail: Mail, kind: MailJob["kind"]) => {
    await deps.mailer.send(mail);
    deps.log.info("mail sent", { kind });
  };
  // The user with this id while it still has this email. Read by email through the internal method,
  // which skips the user cache: a mail job warms nothing a request then reads differently.
  const current = async (userId: string, email: string) => {
    const user = await fromUserService(deps.users.getUserByEmailInternal({ email }));
    return user && user.id === userId && !user.deletedAt ? user : null;
  };
  return async (job: MailJob): Promise<void> => {
    switch (job.kind) {
      case "password_reset": {
        const user = await fromUserService(deps.users.getUserByEmailInternal({ email: job.email }));
        if (!user || user.deletedAt) return; // nobody to tell: no mail, and the request answered the same
        const token = await deps.oneTimeTokens.issue({
          purpose: "password_reset",
          userId: user.id,
          email: user.email,
          passwordFingerprint: passwordFingerprint(user.passwordHash),
        });
        const url = link(deps.publicBaseUrl, LINK_PATHS.password_reset, token);
        return send(resetMail(user.email, url, Math.round(deps.ttls.password_reset / 60)), job.kind);
      }
      case "verify_email": {
        const user = await current(job.userId, job.email);
        if (!user || user.emailVerifiedAt) return; // verified, or the email has changed since
        const token = await deps.oneTimeTokens.issue({ purpose: "email_verification", userId: user.id, email: user.email });
        const url = link(deps.publicBaseUrl, LINK_PATHS.email_verification, token);
        return send(verificationMail(user.email, url, hours(deps.ttls.email_verification)), job.kind);
      }
      case "confirm_email_change": {
        const user = await current(job.userId, job.email);
        if (!user) return; // the account has moved on since
        const token = await deps.oneTimeTokens.issue({
          purpose: "email_change",
          userId: user.id,
          email: job.email,
          newEmail: job.newEmail,
        });
        const url = link(deps.publicBaseUrl, LINK_PATHS.email_verification, token);
        return send(emailChangeMail(job.newEmail, url, hours(deps.ttls.email_change)), job.kind);
      }
      case "email_changed":
        return send(emailChangedMail(job.to, job.newEmail), job.kind);
    }
  };
}
