// Typed JSON values with a TTL, and session storage. Values are copied in and out (JSON), so both
// backends behave alike; `null` and absence read the same.
import { DEFAULTS, KEY_PREFIXES, type Backend, type Cache, type Sessions } from "./types.ts";

/** ttlMs turns a TTL in seconds into milliseconds, refusing what Redis would reject. */
export function ttlMs(ttlSeconds: number): number {
  const ms = Math.round(ttlSeconds * 1000);
  if (!Number.isFinite(ms) || ms < 1) throw new RangeError(`TTL must be positive, got ${ttlSeconds}`);
  return ms;
}

function encode(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("cache values must be JSON-serializable");
  return json;
}

function decode<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

/** createCache stores JSON values under the store's prefix (default TTL one hour). */
export function createCache(backend: Backend, prefix: string): Cache {
  return {
    get: async (key) => decode(await backend.getValue(prefix + key)),
    async getMany<T>(keys: string[]) {
      if (keys.length === 0) return [];
      const values = await backend.getValues(keys.map((key) => prefix + key));
      return values.map((json) => decode<T>(json));
    },
    async set(key, value, ttlSeconds = DEFAULTS.cacheTtlSeconds) {
      await backend.setValue(prefix + key, encode(value), ttlMs(ttlSeconds));
    },
    delete: (key) => backend.deleteValue(prefix + key),
    take: async (key) => decode(await backend.takeValue(prefix + key)),
  };
}

/** createSessions stores session data under `session:<id>`, each with its own lifetime. */
export function createSessions(backend: Backend, prefix: string): Sessions {
  const key = (id: string) => `${prefix}${KEY_PREFIXES.session}${id}`;
  return {
    get: async (id) => decode(await backend.getValue(key(id))),
    async set(id, data, ttlSeconds) {
      await backend.setValue(key(id), encode(data), ttlMs(ttlSeconds));
    },
    delete: (id) => backend.deleteValue(key(id)),
  };
}
