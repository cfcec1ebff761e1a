// Client-side balancing over a service's replicas. The endpoints are the URLs given (a
// comma-separated list) and, for each hostname, every address it resolves to — a Kubernetes
// headless Service answers with every ready pod — re-resolved every few seconds; calls go round
// robin, so a long-lived keep-alive connection can't pin a caller to one replica. A replica that
// fails Unavailable is skipped for a moment, and the call is retried once on another replica when
// that is safe: the connection was refused (nothing was sent), or the method has no side effects
// (NO_SIDE_EFFECTS below). A write that may have reached a replica is never retried blindly.
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { AuthService } from "../../gen/auth/v1/auth_pb.ts";
import { Health } from "../../gen/grpc/health/v1/health_pb.ts";
import { UserService } from "../../gen/user/v1/user_pb.ts";

/** NO_SIDE_EFFECTS are the reads a failed replica's caller may send again elsewhere. */
const NO_SIDE_EFFECTS = new Set<DescMethod>([
  UserService.method.getUser,
  UserService.method.getUserByEmail,
  UserService.method.listUsers,
  UserService.method.getUserByEmailInternal,
  UserService.method.getUserByEmailInternalWithDeleted,
  AuthService.method.verifyToken,
  AuthService.method.listSessions,
  Health.method.check,
]);

/** Resolve answers a hostname's addresses. */
export type Resolve = (hostname: string) => Promise<string[]>;

export type BalanceOptions = {
  /** resolve looks hostnames up; default: the system resolver, IPv4 answers first. */
  resolve?: Resolve;
  /** refreshMs is how often hostnames are resolved again; default 5 s. */
  refreshMs?: number;
  /** quarantineMs is how long a replica that failed is skipped; default 2 s. */
  quarantineMs?: number;
};

type Endpoint = { url: string; transport: Transport; downUntil: number };

// The system resolver (/etc/hosts, then DNS), every answer; IPv4 only when there is one, so a name
// that also has an IPv6 address doesn't send calls to a server listening on IPv4 alone.
const systemResolve: Resolve = async (hostname) => {
  const answers = await lookup(hostname, { all: true });
  const v4 = answers.filter((a) => a.family === 4).map((a) => a.address);
  return v4.length > 0 ? v4 : answers.map((a) => a.address);
};

// A URL's host as an address (an IPv6 one without its brackets), or null for a name to resolve.
const addressOf = (url: URL): string | null => {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return isIP(host) === 0 ? null : host;
};

/** needsBalancing tells whether a service URL names more than one replica or a hostname to resolve. */
export function needsBalancing(urls: string): boolean {
  const list = urls.split(",").map((url) => new URL(url.trim()));
  return list.length > 1 || list.some((url) => addressOf(url) === null);
}

/** balancedTransport spreads calls over the replicas behind urls, each reached with make(url). */
export function balancedTransport(urls: string, make: (url: string) => Transport, options: BalanceOptions = {}): Transport {
  const resolve = options.resolve ?? systemResolve;
  const refreshMs = options.refreshMs ?? 5000;
  const quarantineMs = options.quarantineMs ?? 2000;
  const bases = urls.split(",").map((url) => new URL(url.trim()));
  const byUrl = new Map<string, Endpoint>();
  const endpointOf = (url: string): Endpoint => {
    let found = byUrl.get(url);
    if (!found) {
      found = { url, transport: make(url), downUntil: 0 };
      byUrl.set(url, found);
    }
    return found;
  };

  let endpoints: Endpoint[] = [];
  let resolvedAt = Number.NEGATIVE_INFINITY;
  let resolving: Promise<void> | undefined;
  const refresh = () => {
    resolving ??= (async () => {
      const lists = await Promise.all(
        bases.map(async (base) => {
          if (addressOf(base) !== null) return [base.href];
          // A failed lookup keeps what was known; with nothing known, the name itself is used.
          const addresses = await resolve(base.hostname).catch(() => [] as string[]);
          if (addresses.length === 0) return endpoints.length > 0 ? endpoints.map((e) => e.url) : [base.href];
          return addresses.map((address) => {
            const url = new URL(base.href);
            url.hostname = isIP(address) === 6 ? `[${address}]` : address;
            return url.href;
          });
        }),
      );
      endpoints = [...new Set(lists.flat())].map(endpointOf);
      resolvedAt = Date.now();
    })().finally(() => {
      resolving = undefined;
    });
    return resolving;
  };
  const current = async (): Promise<Endpoint[]> => {
    if (endpoints.length === 0) await refresh();
    else if (Date.now() - resolvedAt > refreshMs) void refresh(); // answer with the known list meanwhile
    return endpoints;
  };

  let next = 0;
  const pick = (list: Endpoint[], except?: Endpoint): Endpoint | undefined => {
    const now = Date.now();
    const candidates = list.filter((e) => e !== except);
    const up = candidates.filter((e) => e.downUntil <= now);
    const pool = up.length > 0 ? up : candidates;
    return pool.length > 0 ? pool[next++ % pool.length] : undefined;
  };

  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const list = await current();
      const first = pick(list)!;
      try {
        return await first.transport.unary(method, signal, timeoutMs, header, input, contextValues);
      } catch (error) {
        const err = ConnectError.from(error);
        if (err.code !== Code.Unavailable) throw err;
        first.downUntil = Date.now() + quarantineMs;
        const other = pick(list, first);
        if (!other || signal?.aborted || !(NO_SIDE_EFFECTS.has(method) || neverSent(err))) throw err;
        return other.transport.unary(method, signal, timeoutMs, header, input, contextValues);
      }
    },
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      const endpoint = pick(await current())!;
      return endpoint.transport.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

// A refused connection carried nothing: the call can go to another replica whatever it does.
function neverSent(error: ConnectError): boolean {
  const cause = error.cause as { code?: unknown } | undefined;
  return cause?.code === "ConnectionRefused" || cause?.code === "ECONNREFUSED";
}
