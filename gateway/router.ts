// The gateway's router: hono's trie, with each literal route path's match remembered. hono's fastest
// router (RegExpRouter) refuses this route table (`/users/me` beside `/users/:id`, under `/users/*`
// middleware), so SmartRouter settles on the trie, which walks the path and gathers the handlers
// anew for every request; for a path that is exactly a registered literal route (`/users/me`,
// `/auth/login`, `/health/live`) the result is the same every time, so it is computed once. Other
// paths (`/users/<id>`, misses) are the trie's, uncached, so the memory stays bounded by the table.
import type { Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

export function literalPathRouter<T>(): Router<T> {
  const trie = new TrieRouter<T>();
  // By literal path, then method: the results matched so far.
  const literals = new Map<string, Map<string, Result<T>>>();
  return {
    name: "TrieRouter, literal paths remembered",
    add(method, path, handler) {
      trie.add(method, path, handler);
      for (const known of literals.values()) known.clear();
      if (!path.includes(":") && !path.includes("*")) literals.set(path, new Map());
    },
    match(method, path) {
      const known = literals.get(path);
      if (known === undefined) return trie.match(method, path);
      let result = known.get(method);
      if (result === undefined) {
        result = trie.match(method, path);
        known.set(method, result);
      }
      return result;
    },
  };
}
