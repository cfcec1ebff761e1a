// Access tokens: HS256 JWTs issued by the auth service and verified both there and locally by the
// gateway (no RPC), so both sides pin exactly the same rules (RFC 8725): one algorithm, issuer,
// audience, explicit type, bounded size and clock skew. Revocation is checked separately
// (lib/tokens/revocation.ts), so verification here is pure CPU. The jti is a UUIDv7, whose first
// 48 bits are the issue time in milliseconds: signed like every claim, it orders a token against a
// revocation in the same second, which iat (whole seconds, RFC 7519) can't.
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { UnauthenticatedError } from "../errors.ts";
import { role as roleSchema } from "../validation.ts";
import { pastMark } from "./revocation.ts";

export const DEFAULT_ISSUER = "bun-api-starter";
export const DEFAULT_AUDIENCE = "bun-api-starter";
/** MAX_TOKEN_LENGTH bounds what is parsed at all: ours are ~400 characters. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
export const MIN_SECRET_LENGTH = 32;

const ALG = "HS256";
// RFC 9068's media type for JWT access tokens, in the header (RFC 8725 §3.11 explicit typing);
// the `typ` claim says the same inside the signed payload.
const HEADER_TYP = "at+jwt";
const REQUIRED_CLAIMS = ["sub", "sid", "email", "role", "jti", "iat", "exp", "typ"];

export type Role = z.output<typeof roleSchema>;

/** AccessClaims are the verified claims of an access token (times in seconds since the epoch). */
export type AccessClaims = {
  sub: string;
  /** sid is the session (refresh-token family) the token was issued in: ending it voids the token. */
  sid: string;
  email: string;
  role: Role;
  jti: string;
  iat: number;
  exp: number;
  typ: "access";
  /** iatMs is the issue time in milliseconds, read from the jti (a UUIDv7 within iat's second). */
  iatMs: number;
};

/** IssuedToken is a signed access token and what a client needs to know about it. */
export type IssuedToken = { token: string; jti: string; expiresIn: number; expiresAt: number };

export type AccessTokens = {
  /** lifetimeSeconds is how long every issued token lives. */
  readonly lifetimeSeconds: number;
  /** issue signs a token for the user in session sid, issued strictly after notBeforeMs when given. */
  issue(user: { id: string; email: string; role: string }, sid: string, notBeforeMs?: number): Promise<IssuedToken>;
  /** verify returns the claims or throws UnauthenticatedError (AccessTokenExpiredError when expired). */
  verify(token: unknown): Promise<AccessClaims>;
};

export type AccessTokenOptions = {
  /** secret is JWT_SECRET: at least 32 characters. */
  secret: string;
  /** expirationHours is JWT_EXPIRATION_HOURS. */
  expirationHours: number;
  issuer?: string;
  audience?: string;
  /** clockToleranceSeconds absorbs clock skew between issuer and verifier; default 30. */
  clockToleranceSeconds?: number;
};

/** AccessTokenExpiredError is an access token that was valid but has expired: refresh it. */
export class AccessTokenExpiredError extends UnauthenticatedError {
  override name = "AccessTokenExpiredError";
}

// Lower-case, as Bun.randomUUIDv7 writes it: one spelling per token.
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// Session ids are random UUIDs (crypto.randomUUID).
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuidV7Millis = (uuid: string) => Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);

const claimsSchema = z
  .object({
    sub: z.string().min(1).max(128),
    sid: z.string().regex(SESSION_ID),
    email: z.string().min(3).max(320),
    role: roleSchema,
    jti: z.string().regex(UUID_V7),
    iat: z.number().int(),
    exp: z.number().int(),
    typ: z.literal("access"),
  })
  .transform((claims) => ({ ...claims, iatMs: uuidV7Millis(claims.jti) }))
  .refine((claims) => Math.floor(claims.iatMs / 1000) === claims.iat);

/** accessTokenEnv is the environment of every binary that issues or verifies access tokens. */
export const accessTokenEnv = {
  JWT_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`)
    .refine(
      (value) => value !== "your-secret-key-minimum-32-characters",
      "is the documentation's example: generate one (openssl rand -base64 48)",
    )
    .optional(),
  JWT_ISSUER: z.string().min(1).default(DEFAULT_ISSUER),
  JWT_AUDIENCE: z.string().min(1).default(DEFAULT_AUDIENCE),
};

/** createAccessTokens issues and verifies access tokens; bad options throw here, not per call. */
export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { secret, expirationHours, issuer = DEFAULT_ISSUER, audience = DEFAULT_AUDIENCE } = options;
  const clockTolerance = options.clockToleranceSeconds ?? 30;
  if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`the JWT secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (!(expirationHours > 0) || !Number.isFinite(expirationHours)) {
    throw new RangeError(`expirationHours must be a positive number, got ${expirationHours}`);
  }
  const lifetimeSeconds = Math.max(1, Math.round(expirationHours * 3600));
  // Imported once: jose would otherwise import a raw Uint8Array secret on every call.
  const key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);

  return {
    lifetimeSeconds,
    async issue(user, sid, notBeforeMs) {
      const role = roleSchema.parse(user.role);
      if (!SESSION_ID.test(sid)) throw new RangeError("sid must be a session id (a UUID)");
      // A revocation at notBeforeMs voids tokens issued up to and including that millisecond.
      if (notBeforeMs !== undefined) await pastMark(notBeforeMs);
      const issuedAtMs = Date.now();
      const jti = Bun.randomUUIDv7("hex", issuedAtMs);
      const iat = Math.floor(issuedAtMs / 1000);
      const exp = iat + lifetimeSeconds;
      const token = await new SignJWT({ sid, email: user.email, role, typ: "access" })
        .setProtectedHeader({ alg: ALG, typ: HEADER_TYP })
        .setSubject(user.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(await key);
      return { token, jti, expiresIn: lifetimeSeconds, expiresAt: exp };
    },
    async verify(token) {
      if (typeof token !== "string" || token.length === 0) throw new UnauthenticatedError("missing access token");
      if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError("invalid access token");
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, await key, {
          algorithms: [ALG],
          issuer,
          audience,
          typ: HEADER_TYP,
          requiredClaims: REQUIRED_CLAIMS,
          clockTolerance,
          // Also refuses an iat in the future, and tokens older than any we would issue.
          maxTokenAge: lifetimeSeconds,
        }));
      } catch (error) {
        // Every failure is the token's, whatever jose threw (JOSEError, TypeError on odd input…).
        if (error instanceof errors.JWTExpired) throw new AccessTokenExpiredError("access token expired", { cause: error });
        throw new UnauthenticatedError("invalid access token", { cause: error });
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new UnauthenticatedError("invalid access token");
      return claims.data;
    },
  };
}
