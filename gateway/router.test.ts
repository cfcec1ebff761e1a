import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { literalPathRouter } from "./router.ts";

const ROUTES: [string, string][] = [
  ["ALL", "/*"],
  ["ALL", "/users/*"],
  ["GET", "/users/me"],
  ["GET", "/users"],
  ["GET", "/users/:id"],
  ["PATCH", "/users/:id"],
  ["POST", "/auth/login"],
];

function both() {
  const ours = literalPathRouter<string>();
  const trie = new TrieRouter<string>();
  for (const [method, path] of ROUTES) {
    ours.add(method, path, `${method} ${path}`);
    trie.add(method, path, `${method} ${path}`);
  }
  return { ours, trie };
}

describe("literalPathRouter", () => {
  test("matches as hono's trie does, a remembered literal path as much as any other", () => {
    const { ours, trie } = both();
    for (const method of ["GET", "POST", "PATCH", "HEAD", "DELETE"]) {
      for (const path of ["/users/me", "/users", "/users/abc", "/auth/login", "/nowhere", "/users/me/", "/"]) {
        expect(ours.match(method, path)).toEqual(trie.match(method, path));
        expect(ours.match(method, path)).toEqual(trie.match(method, path)); // the remembered one
      }
    }
  });

  test("a route added later is matched on the paths it was remembered for", () => {
    const { ours } = both();
    expect(ours.match("GET", "/users/me")[0]).toHaveLength(4);
    ours.add("GET", "/users/me", "a second handler");
    expect(ours.match("GET", "/users/me")[0].map(([handler]) => handler)).toContain("a second handler");
  });

  test("a hono app on it answers literal and parameter routes alike", async () => {
    const app = new Hono({ router: literalPathRouter() });
    app.get("/users/me", (c) => c.text("me"));
    app.get("/users/:id", (c) => c.text(`user ${c.req.param("id")}`));
    for (let i = 0; i < 3; i++) {
      expect(await (await app.request("/users/me")).text()).toBe("me");
      expect(await (await app.request(`/users/${i}`)).text()).toBe(`user ${i}`);
    }
  });
});
