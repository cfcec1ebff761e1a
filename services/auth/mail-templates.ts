// The account mails: a subject, a plain-text body and an HTML body each, from one small template.
// Every interpolated value is escaped for HTML; links hold their token in the fragment.
import type { Mail } from "../../lib/mail/mailer.ts";

const APP = "bun-api-starter";

const html = Bun.escapeHTML;

function mail(to: string, subject: string, lines: string[], action?: { label: string; link: string }): Mail {
  const text = [...lines, ...(action ? ["", `${action.label}: ${action.link}`] : []), "", `— ${APP}`].join("\n");
  const paragraphs = lines.map((line) => `<p>${html(line)}</p>`).join("\n");
  const button = action ? `<p><a href="${html(action.link)}">${html(action.label)}</a></p>` : "";
  const body = `<!doctype html>\n<html><body style="font-family: sans-serif">\n${paragraphs}\n${button}\n<p>— ${APP}</p>\n</body></html>\n`;
  return { to, subject, text, html: body, link: action?.link };
}

/** verificationMail asks a new user to confirm the address. */
export const verificationMail = (to: string, link: string, hours: number) =>
  mail(
    to,
    `Confirm your email address for ${APP}`,
    [`Please confirm that ${to} is your email address.`, `The link works once, for ${hours} hours.`],
    { label: "Confirm your email address", link },
  );

/** resetMail carries a password-reset link. */
export const resetMail = (to: string, link: string, minutes: number) =>
  mail(
    to,
    `Reset your ${APP} password`,
    [
      "Someone asked to reset the password of the account with this address.",
      `The link works once, for ${minutes} minutes. If it wasn't you, ignore this mail: your password stays as it is.`,
    ],
    { label: "Choose a new password", link },
  );

/** emailChangeMail asks to confirm a new address; the change waits for it. */
export const emailChangeMail = (to: string, link: string, hours: number) =>
  mail(
    to,
    `Confirm your new email address for ${APP}`,
    [`Please confirm that ${to} should become the email address of your account.`, `The link works once, for ${hours} hours.`],
    { label: "Confirm the new address", link },
  );

/** emailChangedMail tells the old address that the account moved to another one. */
export const emailChangedMail = (to: string, newEmail: string) =>
  mail(to, `Your ${APP} email address was changed`, [
    `The email address of your account was changed from ${to} to ${newEmail}.`,
    "If you didn't do this, reset your password and contact support at once.",
  ]);
