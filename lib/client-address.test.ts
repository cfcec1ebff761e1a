import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { addressKey, addressKeys, addressPrefixEnv, addressPrefixes, DEFAULT_ADDRESS_PREFIXES } from "./client-address.ts";
import { ConfigError, parseEnv } from "./config/config.ts";

const key = (address: string) => addressKey(address, DEFAULT_ADDRESS_PREFIXES);

describe("addressKey", () => {
  test("gives every address of one IPv6 /64 the same key, the /64 itself", () => {
    const keys = ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"].map(key);
    expect(new Set(keys)).toEqual(new Set(["2001:db8:1:2::/64"]));
  });

  test("gives addresses of different /64s different keys", () => {
    expect(key("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(key("2001:db8:1:2::1")).not.toBe(key("2001:db8:1:3::1"));
    expect(key("2001:db8:1:2::1")).not.toBe(key("2001:db9:1:2::1"));
  });

  test("gives every spelling of one address the same canonical lowercase key", () => {
    const prefixes = { ipv4: 32, ipv6: 128 };
    const spellings = ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1", "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8:0:0:1:0:0:1"];
    expect(new Set(spellings.map((address) => addressKey(address, prefixes)))).toEqual(new Set(["2001:db8::1:0:0:1"]));
    expect(addressKey("::102:304", prefixes)).toBe(addressKey("::1.2.3.4", prefixes));
    expect(key("2001:DB8:1:2::1")).toBe("2001:db8:1:2::/64");
  });

  test("masks inside a group and compresses the longest zero run (RFC 5952)", () => {
    expect(addressKey("2001:db8:abcd:ef12::1", { ipv4: 32, ipv6: 56 })).toBe("2001:db8:abcd:ef00::/56");
    expect(addressKey("2001:db8:abcd:ef12::1", { ipv4: 32, ipv6: 48 })).toBe("2001:db8:abcd::/48");
    expect(addressKey("2001:0:0:1:0:0:0:1", { ipv4: 32, ipv6: 128 })).toBe("2001:0:0:1::1");
  });

  test("counts an IPv4-mapped IPv6 address as the IPv4 address", () => {
    expect(key("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(key("::FFFF:cb00:7107")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7", { ipv4: 24, ipv6: 64 })).toBe("203.0.113.0/24");
  });

  test("drops a zone id", () => {
    expect(key("fe80::1%eth0")).toBe("fe80::/64");
    expect(addressKey("fe80::1%eth0", { ipv4: 32, ipv6: 128 })).toBe("fe80::1");
  });

  test("keys each IPv4 address alone by default, and its /24 when set to 24", () => {
    expect(key("203.0.113.7")).toBe("203.0.113.7");
    expect(key("203.0.113.7")).not.toBe(key("203.0.113.8"));
    const slash24 = { ipv4: 24, ipv6: 64 };
    expect(addressKey("203.0.113.7", slash24)).toBe("203.0.113.0/24");
    expect(addressKey("203.0.113.200", slash24)).toBe("203.0.113.0/24");
    expect(addressKey("203.0.114.7", slash24)).toBe("203.0.114.0/24");
    expect(addressKey("203.0.113.7", { ipv4: 20, ipv6: 64 })).toBe("203.0.112.0/20");
  });

  test("returns anything that isn't an IP address as is", () => {
    for (const value of ["unknown", "", "1.2.3", "010.1.1.1", "256.1.1.1", "2001:db8::g", "example.com"]) {
      expect(key(value)).toBe(value);
    }
  });
});

describe("addressPrefixEnv", () => {
  const schema = z.object(addressPrefixEnv);
  const parse = (env: Record<string, string>) => addressPrefixes(parseEnv(schema, {}, env));

  test("defaults to one client per IPv4 address and per IPv6 /64", () => {
    expect(parse({})).toEqual({ ipv4: 32, ipv6: 64 });
    expect(parse({ RATE_LIMIT_IPV4_PREFIX: "24", RATE_LIMIT_IPV6_PREFIX: "48" })).toEqual({ ipv4: 24, ipv6: 48 });
  });

  test("accepts 1..32 and 1..128 and names the bad variable otherwise", () => {
    expect(parse({ RATE_LIMIT_IPV4_PREFIX: "1", RATE_LIMIT_IPV6_PREFIX: "128" })).toEqual({ ipv4: 1, ipv6: 128 });
    for (const [name, value, problem] of [
      ["RATE_LIMIT_IPV4_PREFIX", "0", "must be between 1 and 32"],
      ["RATE_LIMIT_IPV4_PREFIX", "33", "must be between 1 and 32"],
      ["RATE_LIMIT_IPV6_PREFIX", "129", "must be between 1 and 128"],
      ["RATE_LIMIT_IPV6_PREFIX", "64.5", "must be a whole number"],
      ["RATE_LIMIT_IPV6_PREFIX", "wide", "must be a number"],
    ]) {
      expect(() => parse({ [name as string]: value as string })).toThrow(new ConfigError([`${name}: ${problem}`]));
    }
  });
});

describe("addressKeys", () => {
  test("gives addressKey's key for each address, remembered or not, with its own prefixes", () => {
    const wide = addressKeys({ ipv4: 24, ipv6: 48 });
    const addresses = ["127.1.2.7", "2001:db8:1:2::9", "::ffff:127.1.2.9", "unknown", "127.1.2.7"];
    for (let round = 0; round < 2; round++) {
      for (const address of addresses) expect(wide(address)).toBe(addressKey(address, { ipv4: 24, ipv6: 48 }));
    }
    expect(addressKeys(DEFAULT_ADDRESS_PREFIXES)("127.1.2.7")).toBe("127.1.2.7");
  });

  test("stays right past the 10 000 addresses it remembers", () => {
    const keyOf = addressKeys(DEFAULT_ADDRESS_PREFIXES);
    for (let i = 0; i < 10_050; i++) {
      const address = `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      expect(keyOf(address)).toBe(address);
    }
    expect(keyOf("127.0.0.0")).toBe("127.0.0.0");
  });
});
