// startAuthService wires the auth service onto its RPC server; used by the auth-service binary and
// by `combined`, which shares the store and calls the user service and these routes in-process.
import type { Client } from "@connectrpc/connect";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import type { UserService } from "../../gen/user/v1/user_pb.ts";
import type { Store } from "../../lib/redis/index.ts";
import type { Logger } from "../../lib/log.ts";
import { authorizeCallers, type Caller, type CallerCredentials } from "../../lib/rpc/callers.ts";
import { rpcAccessLog } from "../../lib/rpc/access-log.ts";
import { errorInterceptor } from "../../lib/rpc/errors.ts";
import { inProcessTransport } from "../../lib/rpc/in-process.ts";
import { probeDependency } from "../../lib/rpc/probe.ts";
import { metricsResponse } from "../../lib/metrics/metrics.ts";
import { startRpcServer, type RpcServer } from "../../lib/rpc/server.ts";
import { tokenLifetimes } from "../../lib/config/config.ts";
import { createRevocations } from "../../lib/tokens/revocation.ts";
import { createAccessTokens, type AccessTokenOptions } from "../../lib/tokens/tokens.ts";
import { authRoutes } from "./auth.rpc.ts";
import type { AuthDeps } from "./auth.ts";
import { createLimits, type LimitOptions } from "./limits.ts";
import { createPasswords, type PasswordOptions } from "./passwords.ts";
import { createRefreshTokens } from "./refresh.ts";
import { createMailer } from "../../lib/mail/mailer.ts";
import { createQueue, type QueueOptions } from "../../lib/queue/queue.ts";
import { type MailJob, sendAccountMail } from "./account-mail.ts";
import { createOneTimeTokens, type TokenTtls } from "./one-time-tokens.ts";

/** MailOptions say how the account flows mail (auth env.ts builds them from SMTP_URL, MAIL_FROM, …). */
export type MailOptions = {
  /** smtpUrl selects SMTP; unset, mails go to the development outbox in outboxDir. */
  smtpUrl?: string;
  from: string;
  outboxDir: string;
  /** publicBaseUrl is where the mailed links point (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  requireVerifiedEmail: boolean;
  ttls: TokenTtls;
  /** queue tunes retries (tests: short backoffs and locks); production uses lib/queue's defaults. */
  queue?: Partial<Omit<QueueOptions, "name" | "log">>;
};

export type AuthServiceOptions = {
  store: Store;
  log: Logger;
  /** users is a client of the user service (over the network, or in-process in combined mode). */
  users: Client<typeof UserService>;
  /** credentials are the secrets each caller may present (lib/rpc/callers.ts decides what it may call). */
  credentials: CallerCredentials;
  jwt: AccessTokenOptions;
  refreshTokenTtlDays: number;
  refreshReuseGraceSeconds?: number;
  /** limits are the login and register limits, per client network and per account (limits.ts). */
  limits: LimitOptions;
  /** passwords tunes hashing (tests: a smaller bound); production uses the defaults. */
  passwords?: PasswordOptions;
  mail: MailOptions;
  host: string;
  port: number;
  /** internalPort also serves Connect on a Bun.serve port for the other binaries (lib/rpc/connect-listener.ts). */
  internalPort?: number;
  /** metricsToken, when set, is the bearer token GET /metrics on the internal port requires (METRICS_TOKEN). */
  metricsToken?: string;
  /** healthProbeMs is how often the store is pinged for health; default 5 s. */
  healthProbeMs?: number;
  /** shutdownTimeoutMs is how long close() waits for in-flight calls; default 10 s. */
  shutdownTimeoutMs?: number;
};

/** createAuthDeps builds what the handlers need; the dummy password hash is computed here, once. */
export async function createAuthDeps(
  options: Omit<AuthServiceOptions, "host" | "port" | "healthProbeMs" | "shutdownTimeoutMs" | "credentials">,
): Promise<AuthDeps> {
  const { store, log } = options;
  const oneTimeTokens = createOneTimeTokens(store, options.mail.ttls);
  const mailer = createMailer({ ...options.mail, log: log.child({ component: "mail" }) });
  const queue = createQueue<MailJob>(store, { ...options.mail.queue, name: "mail", log });
  const revocations = createRevocations(
    store,
    tokenLifetimes({ JWT_EXPIRATION_HOURS: options.jwt.expirationHours, REFRESH_TOKEN_TTL_DAYS: options.refreshTokenTtlDays }),
  );
  return {
    users: options.users,
    store,
    log,
    tokens: createAccessTokens(options.jwt),
    revocations,
    limits: createLimits(store, options.limits),
    refresh: createRefreshTokens({
      store,
      revocations,
      log,
      secret: options.jwt.secret,
      ttlDays: options.refreshTokenTtlDays,
      graceSeconds: options.refreshReuseGraceSeconds,
    }),
    passwords: await createPasswords(options.passwords),
    oneTimeTokens,
    requireVerifiedEmail: options.mail.requireVerifiedEmail,
    mail: {
      queue,
      startWorker: () =>
        queue.process(
          sendAccountMail({
            users: options.users,
            oneTimeTokens,
            ttls: options.mail.ttls,
            mailer,
            publicBaseUrl: options.mail.publicBaseUrl,
            log,
          }),
        ),
      describe: () => `${mailer.describe()} · queue ${queue.describe()}`,
      async close() {
        await queue.close();
        mailer.close();
      },
    },
  };
}

/** startAuthService serves AuthService with health and reflection. */
export async function startAuthService(options: AuthServiceOptions) {
  const { store, log } = options;
  const deps = await createAuthDeps(options);
  deps.mail.startWorker();
  const routes = authRoutes(deps);
  const authorize = authorizeCallers(options.credentials);
  const server: RpcServer = await startRpcServer({
    host: options.host,
    port: options.port,
    internalPort: options.internalPort,
    pages: { "/metrics": (request) => metricsResponse(request, options.metricsToken) },
    routes,
    services: [AuthService],
    interceptors: [rpcAccessLog(log), errorInterceptor(log), authorize],
    log: (message, fields) => log.info(message, fields),
    shutdownTimeoutMs: options.shutdownTimeoutMs,
  });
  // NOT_SERVING while the store can't be reached: no refresh, logout or revocation check works.
  const stopProbe = probeDependency({
    health: server.health,
    service: AuthService.typeName,
    dependency: "redis",
    check: () => store.ping(),
    log,
    intervalMs: options.healthProbeMs,
  });

  return {
    server,
    /** inProcess is a transport for a caller in this process (combined mode): same checks, no network. */
    inProcess: (caller: Caller) => inProcessTransport(routes, { caller, interceptors: [authorize], health: server.health, log }),
    /** mail describes where mail goes, for the banner. */
    mail: deps.mail.describe,
    async close() {
      stopProbe();
      await server.close();
      await deps.mail.close();
    },
  };
}
