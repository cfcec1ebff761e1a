// The RPC edge of auth.v1.AuthService: validates and normalizes requests, names the client a call
// comes from, maps results to proto. Domain errors become Connect codes in errorInterceptor
// (lib/rpc/errors.ts).
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { isIP } from "node:net";
import { z } from "zod";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { CLIENT_IP_HEADER, CLIENT_USER_AGENT_HEADER, callerKey } from "../../lib/rpc/callers.ts";
import { peerKey } from "../../lib/rpc/peer.ts";
import { SESSION_ID } from "../../lib/tokens/tokens.ts";
import { check, email, name, password, role, userId } from "../../lib/validation.ts";
import * as auth from "./auth.ts";
import * as flows from "./email-flows.ts";
import type { AuthDeps, Session, SessionClient } from "./auth.ts";

// Login checks a password against what is stored, so it enforces only the upper bound: an
// over-long one is refused before any hashing.
const loginPassword = z.string().min(1, "must not be empty").max(128, "must be at most 128 characters");
const sessionId = z.string().regex(SESSION_ID, "must be a session id");
// Any malformed token is simply one that doesn't work (email-flows.ts answers that); this bound only
// keeps junk out.
const mailedToken = z.string().min(1, "must not be empty").max(512, "must be at most 512 characters");

/** authRoutes registers AuthService over deps. */
export function authRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthService, {
      register: async (req, ctx) =>
        toTokenResponse(
          await auth.register(
            deps,
            {
              email: check("email", email, req.email),
              password: check("password", password, req.password),
              name: check("name", name, req.name),
            },
            clientOf(ctx),
          ),
        ),
      login: async (req, ctx) =>
        toTokenResponse(
          await auth.login(
            deps,
            { email: check("email", email, req.email), password: check("password", loginPassword, req.password) },
            clientOf(ctx),
          ),
        ),
      verifyToken: async (req) => {
        const claims = await auth.verifyToken(deps, req.token);
        return {
          userId: claims.sub,
          email: claims.email,
          role: claims.role,
          expiresAt: BigInt(claims.exp),
          jti: claims.jti,
          sessionId: claims.sid,
        };
      },
      refreshToken: async (req, ctx) => toTokenResponse(await auth.refresh(deps, req.refreshToken, clientOf(ctx))),
      hashPassword: async (req) => ({ passwordHash: await deps.passwords.hash(check("password", password, req.password)) }),
      logout: async (req) => {
        await auth.logout(deps, { accessToken: req.accessToken, refreshToken: req.refreshToken });
        return {};
      },
      updateAccount: async (req, ctx) => {
        const { user, tokens, pendingEmail } = await auth.updateAccount(
          deps,
          {
            userId: check("user_id", userId, req.userId),
            name: req.name === undefined ? undefined : check("name", name, req.name),
            email: req.email === undefined ? undefined : check("email", email, req.email),
            role: req.role === undefined ? undefined : check("role", role, req.role),
            password: req.password === undefined ? undefined : check("password", password, req.password),
            currentPassword: req.currentPassword === undefined ? undefined : check("current_password", loginPassword, req.currentPassword),
            keepSessionId: req.keepSessionId === "" ? "" : check("keep_session_id", sessionId, req.keepSessionId),
          },
          clientOf(ctx),
        );
        return { user, tokens: tokens && { ...tokens, tokenType: "Bearer", expiresIn: BigInt(tokens.expiresIn) }, pendingEmail };
      },
      listSessions: async (req) => {
        const current = req.currentSessionId;
        const sessions = await auth.listSessions(deps, check("user_id", userId, req.userId));
        return {
          sessions: sessions.map((s) => ({
            id: s.id,
            createdAt: new Date(s.createdAt).toISOString(),
            lastUsedAt: new Date(s.lastUsedAt).toISOString(),
            userAgent: s.userAgent,
            ip: s.ip,
            current: s.id === current,
          })),
        };
      },
      endSessions: async (req) => {
        const sid = req.sessionId === "" ? "" : check("session_id", sessionId, req.sessionId);
        await auth.endSessions(deps, check("user_id", userId, req.userId), sid);
        return {};
      },
      requestPasswordReset: async (req, ctx) => {
        await flows.requestPasswordReset(deps, check("email", email, req.email), clientOf(ctx));
        return {};
      },
      resetPassword: async (req) => {
        await flows.resetPassword(deps, check("token", mailedToken, req.token), check("password", password, req.password));
        return {};
      },
      verifyEmail: async (req) => ({ user: await flows.verifyEmail(deps, check("token", mailedToken, req.token)) }),
      resendVerification: async (req, ctx) => {
        await flows.resendVerification(deps, check("user_id", userId, req.userId), clientOf(ctx));
        return {};
      },
    });
}

// The gateway names the client it resolved (X-Forwarded-For behind trusted proxies); anyone else is
// the connection's own peer, whatever headers it sends.
function clientOf(ctx: HandlerContext): SessionClient {
  if (ctx.values.get(callerKey) === "gateway") {
    const ip = ctx.requestHeader.get(CLIENT_IP_HEADER) ?? "";
    return { ip: isIP(ip) ? ip : "", userAgent: ctx.requestHeader.get(CLIENT_USER_AGENT_HEADER) ?? "" };
  }
  return { ip: ctx.values.get(peerKey), userAgent: ctx.requestHeader.get("user-agent") ?? "" };
}

function toTokenResponse(session: Session) {
  return {
    user: session.user,
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    tokenType: "Bearer",
    expiresIn: BigInt(session.expiresIn),
    sessionId: session.sessionId,
  };
}
