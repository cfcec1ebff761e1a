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
  const literals = new Set<string>();
  const matched = new Map<string, Result<T>>();
  return {
    name: "TrieRouter, literal paths remembered",
    add(method, path, handler) {
      trie.add(method, path, handler);
      if (!path.includes(":") && !path.includes("*")) literals.add(path);
      matched.clear();
    },
    match(method, path) {
      if (!literals.has(path)) return trie.match(method, path);
      const key = `${method} ${path}`;
      let result = matched.get(key);
      if (result === undefined) {
        result = trie.match(method, path);
        matched.set(key, result);
      }
      return result;
    },
  };
}
