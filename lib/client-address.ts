// The rate-limit key of a client address: the network it belongs to, so rotating within one allocation doesn't reset a limit.
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { z } from "zod";

/** AddressPrefixes is how many leading bits of an address name one client, per family. */
export type AddressPrefixes = { ipv4: number; ipv6: number };

/** DEFAULT_ADDRESS_PREFIXES counts each IPv4 address and each IPv6 /64 (the usual end-site allocation) as one client. */
export const DEFAULT_ADDRESS_PREFIXES: AddressPrefixes = { ipv4: 32, ipv6: 64 };

/**
 * addressKey names the network address belongs to: "203.0.113.0/24", "2001:db8:1:2::/64" (RFC 5952
 * form, so every spelling of one address gives one key). An IPv4-mapped IPv6 address counts as
 * IPv4, a zone id (fe80::1%eth0) is dropped, and a full-length prefix gives the bare address
 * ("203.0.113.7"). Anything that isn't an IP address ("unknown", "") is returned as is.
 */
export function addressKey(address: string, prefixes: AddressPrefixes): string {
  const family = isIP(address);
  if (family === 0) return address;
  const text = family === 6 ? withHexTail(address.split("%")[0] as string) : address;
  let ip = ipaddr.parse(text);
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) ip = ip.toIPv4Address();
  const bits = ip.kind() === "ipv4" ? prefixes.ipv4 : prefixes.ipv6;
  const bytes = ip.toByteArray();
  if (bits >= bytes.length * 8) return ip.toString();
  const masked = bytes.map((byte, i) => byte & (0xff << (8 - Math.min(8, Math.max(0, bits - i * 8)))));
  return `${ipaddr.fromByteArray(masked).toString()}/${bits}`;
}

// Rate limits key every request: parsing and masking the address costs more than the rest of the
// limit's JavaScript, and a client sends many requests from one address.
const REMEMBERED = 10_000;

/** addressKeys is addressKey for one set of prefixes, remembering up to 10 000 addresses' keys. */
export function addressKeys(prefixes: AddressPrefixes): (address: string) => string {
  const keys = new Map<string, string>();
  return (address) => {
    let key = keys.get(address);
    if (key === undefined) {
      key = addressKey(address, prefixes);
      if (keys.size >= REMEMBERED) keys.delete(keys.keys().next().value!);
      keys.set(address, key);
    }
    return key;
  };
}

// ipaddr.js reads "::1.2.3.4" as "::ffff:1.2.3.4", so it would key apart from its own hex spelling
// "::102:304"; writing a dotted tail as two hex groups first keeps one address, one key.
function withHexTail(address: string): string {
  return address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => {
    const group = (high: string, low: string) => ((Number(high) << 8) | Number(low)).toString(16);
    return `${group(a, b)}:${group(c, d)}`;
  });
}

const prefixLength = (max: number, fallback: number) =>
  z.coerce
    .number("must be a number")
    .int("must be a whole number")
    .min(1, `must be between 1 and ${max}`)
    .max(max, `must be between 1 and ${max}`)
    .default(fallback);

/** addressPrefixEnv is how much of a client address rate limits count as one client (RATE_LIMIT_IPV4_PREFIX, RATE_LIMIT_IPV6_PREFIX). */
export const addressPrefixEnv = {
  RATE_LIMIT_IPV4_PREFIX: prefixLength(32, DEFAULT_ADDRESS_PREFIXES.ipv4),
  RATE_LIMIT_IPV6_PREFIX: prefixLength(128, DEFAULT_ADDRESS_PREFIXES.ipv6),
};

/** addressPrefixes turns addressPrefixEnv into AddressPrefixes. */
export function addressPrefixes(env: { RATE_LIMIT_IPV4_PREFIX: number; RATE_LIMIT_IPV6_PREFIX: number }): AddressPrefixes {
  return { ipv4: env.RATE_LIMIT_IPV4_PREFIX, ipv6: env.RATE_LIMIT_IPV6_PREFIX };
}
