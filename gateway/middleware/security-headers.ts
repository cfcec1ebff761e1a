// The security headers every answer carries: hono's secureHeaders defaults as the gateway used them
// (no Content-Security-Policy, no Cross-Origin-Embedder-Policy), as one fixed list that the edge
// middleware (edge.ts) sets, instead of a middleware layer of their own. security-headers.test.ts
// checks the list against what hono's middleware sets, so an upgrade that changes it is noticed.
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/** addSecurityHeaders sets them on an answer's headers. */
export function addSecurityHeaders(headers: Headers): void {
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
}
