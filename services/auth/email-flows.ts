// The mailed account flows: password reset, email verification and its resend, and the
// confirmation of an email change. Asking for a mail only counts the limits and queues a job (the
// lookup happens in the worker, account-mail.ts), so the answer takes the same time whether or
// not the account exists. A link's token is taken once; an unknown, used or expired one, or one
// whose account has moved on, gets one and the same answer.
import { Code, ConnectError } from "@connectrpc/connect";
import type { UserResponse } from "../../gen/user/v1/user_pb.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PROBLEM_TYPES } from "../../lib/errors.ts";
import { type AuthDeps, fromUserService, type SessionClient } from "./auth.ts";
import { passwordFingerprint } from "./one-time-tokens.ts";

const invalidToken = () => new InvalidArgumentError("token", "is invalid or has expired: ask for a new link", PROBLEM_TYPES.invalidToken);

/** requestPasswordReset queues a reset mail for email (sent only if an active user has it). */
export async function requestPasswordReset(deps: AuthDeps, email: string, client: SessionClient): Promise<void> {
  await deps.limits.mail(email, client.ip);
  await deps.mail.queue.add({ kind: "password_reset", email });
}

/** resetPassword sets a new password with a reset token; the user service then ends every session. */
export async function resetPassword(deps: AuthDeps, token: string, password: string): Promise<void> {
  const record = await deps.oneTimeTokens.take(token, ["password_reset"]);
  if (!record) throw invalidToken();
  const user = await fromUserService(deps.users.getUserByEmailInternal({ email: record.email }));
  // Another password since the link was mailed (or another account now) voids it.
  if (!user || user.id !== record.userId || passwordFingerprint(user.passwordHash) !== record.passwordFingerprint) throw invalidToken();
  const passwordHash = await deps.passwords.hash(password);
  // The link reached the address: it is verified too.
  await refusedIsInvalid(deps.users.updateUser({ id: user.id, passwordHash, emailVerified: true, expectedEmail: record.email }));
  await deps.limits.succeeded(record.email);
}

/** verifyEmail confirms an address: the user's own (verification) or a new one (email change, which
 * takes effect now and is told to the old address). */
export async function verifyEmail(deps: AuthDeps, token: string): Promise<UserResponse> {
  const record = await deps.oneTimeTokens.take(token, ["email_verification", "email_change"]);
  if (!record) throw invalidToken();
  const newEmail = record.purpose === "email_change" ? record.newEmail : undefined;
  const user = await refusedIsInvalid(
    deps.users.updateUser({ id: record.userId, email: newEmail, emailVerified: true, expectedEmail: record.email }),
  );
  if (newEmail) {
    await deps.mail.queue.add({ kind: "email_changed", to: record.email, newEmail }).catch((error: unknown) => {
      deps.log.error("the old address's notice of an email change could not be queued", { user_id: record.userId, error });
    });
  }
  return user;
}

/** resendVerification queues a new verification mail for a signed-in user whose address isn't verified. */
export async function resendVerification(deps: AuthDeps, userId: string, client: SessionClient): Promise<void> {
  const user = await fromUserService(deps.users.getUser({ id: userId }));
  if (!user) throw new NotFoundError(`no user with id ${userId}`);
  if (user.emailVerifiedAt) throw new FailedPreconditionError("the email address is already verified");
  await deps.limits.mail(user.email, client.ip);
  await deps.mail.queue.add({ kind: "verify_email", userId, email: user.email });
}

// The user service refuses a link's change when the account is gone, deleted or has another email
// now: for the client that is a link that no longer works. A taken email is a real conflict (409).
async function refusedIsInvalid(call: Promise<UserResponse>): Promise<UserResponse> {
  try {
    const user = await fromUserService(call);
    if (!user) throw invalidToken();
    return user;
  } catch (error) {
    const code = ConnectError.from(error).code;
    if (code === Code.FailedPrecondition) throw invalidToken();
    throw error;
  }
}
