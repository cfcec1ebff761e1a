// Field rules shared by the gateway, the auth service and the user service, so that every edge
// accepts and normalizes exactly the same things.
import { z } from "zod";
import { InvalidArgumentError } from "./errors.ts";

/**
 * email is trimmed and lower-cased before it is stored or looked up: "  Ann@Example.COM " and
 * "ann@example.com" are the same account. (Lower-casing the local part is a policy choice most
 * services make; mailbox providers that distinguish case there are vanishingly rare.)
 */
export const email = z
  .string()
  .max(320, "must be at most 254 characters")
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.email("must be a valid email address").max(254, "must be at most 254 characters"));

/** name is trimmed and must then hold 1 to 100 characters, none of them control characters. */
export const name = z
  .string()
  .transform((value) => value.trim())
  .pipe(
    z
      .string()
      .min(1, "must not be empty")
      .max(100, "must be at most 100 characters")
      // PostgreSQL can't store NUL; CR/LF and other controls have no place in a display name.
      // Lone surrogates would be stored silently altered (U+FFFD).
      .refine((value) => value.isWellFormed() && !/\p{Cc}/u.test(value), "must not contain control characters"),
  );

/** password is kept verbatim (no trimming) and holds 8 to 128 characters. */
export const password = z.string().min(8, "must be at least 8 characters").max(128, "must be at most 128 characters");

/** role is one of the two roles. */
export const role = z.enum(["user", "admin"], "must be user or admin");

/**
 * userId is a UUID, lower-cased: UUIDs are case-insensitive (RFC 9562 §4) and PostgreSQL accepts
 * either case, but ownership checks, cache keys and revocation keys compare text, so every edge
 * must hand on one spelling.
 */
export const userId = z.uuid("must be a UUID").toLowerCase();

/** check parses value with schema or throws InvalidArgumentError naming the first bad field. */
export function check<S extends z.ZodType>(field: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].filter(Boolean).join(".");
  throw new InvalidArgumentError(path, issue.message);
}
