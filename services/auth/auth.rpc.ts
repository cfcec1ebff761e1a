// The RPC edge of auth.v1.AuthService: validates and normalizes requests, maps results to proto.
// Domain errors become Connect codes in errorInterceptor (lib/rpc/errors.ts).
import type { ConnectRouter } from "@connectrpc/connect";
import { z } from "zod";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { check, email, name, password } from "../../lib/validation.ts";
import * as auth from "./auth.ts";
import type { AuthDeps, Session } from "./auth.ts";

// Login checks a password against what is stored, so it enforces only the upper bound: an
// over-long one is refused before any hashing.
const loginPassword = z.string().min(1, "must not be empty").max(128, "must be at most 128 characters");

/** authRoutes registers AuthService over deps. */
export function authRoutes(deps: AuthDeps) {
  return (router: ConnectRouter) =>
    router.service(AuthService, {
      register: async (req) =>
        toTokenResponse(
          await auth.register(deps, {
            email: check("email", email, req.email),
            password: check("password", password, req.password),
            name: check("name", name, req.name),
          }),
        ),
      login: async (req) =>
        toTokenResponse(
          await auth.login(deps, { email: check("email", email, req.email), password: check("password", loginPassword, req.password) }),
        ),
      verifyToken: async (req) => {
        const claims = await auth.verifyToken(deps, req.token);
        return { userId: claims.sub, email: claims.email, role: claims.role, expiresAt: BigInt(claims.exp), jti: claims.jti };
      },
      refreshToken: async (req) => toTokenResponse(await auth.refresh(deps, req.refreshToken)),
      hashPassword: async (req) => ({ passwordHash: await deps.passwords.hash(check("password", password, req.password)) }),
      logout: async (req) => {
        await auth.logout(deps, { accessToken: req.accessToken, refreshToken: req.refreshToken });
        return {};
      },
    });
}

function toTokenResponse(session: Session) {
  return {
    user: session.user,
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    tokenType: "Bearer",
    expiresIn: BigInt(session.expiresIn),
  };
}
