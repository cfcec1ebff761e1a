// Mail configuration, validated with the rest of a binary's environment (lib/config/config.ts).
import { z } from "zod";

/** smtpUrl accepts smtp:// (STARTTLS when offered) and smtps:// (TLS from the start) URLs. */
export const smtpUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && ["smtp:", "smtps:"].includes(new URL(value).protocol) && new URL(value).hostname !== "",
    "must be an smtp:// or smtps:// URL with a host (e.g. smtps://user:password@smtp.example.com:465)",
  );

/** publicBaseUrl is where users open the links that mails carry: an http(s) URL without query or fragment. */
export const publicBaseUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && ["http:", "https:"].includes(new URL(value).protocol),
    "must be an http:// or https:// URL (e.g. https://app.example.com)",
  )
  .refine(
    (value) => !URL.canParse(value) || (new URL(value).search === "" && new URL(value).hash === ""),
    "must not have a query or fragment",
  )
  .transform((value) => value.replace(/\/+$/, ""));

/** mailEnv is what the sender of mail reads: SMTP_URL unset (outside production) writes the development outbox. */
export const mailEnv = {
  SMTP_URL: smtpUrl.optional(),
  MAIL_FROM: z.string().min(3, "must be an address, e.g. Example <no-reply@example.com>").default("bun-api-starter <no-reply@localhost>"),
  PUBLIC_BASE_URL: publicBaseUrl.default("http://localhost:3000"),
};

/** MAIL_REQUIRED_IN_PRODUCTION are the mail variables NODE_ENV=production requires: no outbox there, and no localhost links. */
export const MAIL_REQUIRED_IN_PRODUCTION = ["SMTP_URL", "PUBLIC_BASE_URL"];
