import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { etag } from "./etag.ts";

const body = { id: "01", name: "Ada" };
const sha1 = (text: string) => `"${new Bun.CryptoHasher("sha1").update(text).digest("hex")}"`;

function app() {
  const app = new Hono();
  app.use(etag);
  app.get("/user", (c) => {
    c.header("Cache-Control", "private, no-cache");
    c.header("X-Request-Id", "req-1");
    c.header("X-Other", "dropped on 304");
    return c.json(body);
  });
  app.get("/missing", (c) => c.json({ detail: "no" }, 404));
  app.get("/text", (c) => c.text("plain words"));
  app.get("/other", (c) => {
    c.json({ not: "sent" });
    return c.json(body, { status: 200, headers: { "X-Made": "second" } });
  });
  app.post("/user", (c) => c.json(body));
  return app;
}

describe("etag", () => {
  test("a 200 GET carries the SHA-1 of its exact body as a strong ETag, body untouched", async () => {
    const res = await app().request("/user");
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(sha1(JSON.stringify(body)));
    expect(await res.json()).toEqual(body);
  });

  test.each([
    ["the same tag", (tag: string) => tag],
    ["the tag marked weak", (tag: string) => `W/${tag}`],
    ["the tag in a list", (tag: string) => `"other", ${tag}`],
    ["*", () => "*"],
  ])("If-None-Match with %s answers 304 with no body, the ETag and the cache headers only", async (_, header) => {
    const tag = sha1(JSON.stringify(body));
    const res = await app().request("/user", { headers: { "if-none-match": header(tag) } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("etag")).toBe(tag);
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(res.headers.get("x-other")).toBeNull();
    expect(res.headers.get("content-type")).toBeNull();
  });

  test("a stale If-None-Match gets the full 200", async () => {
    const res = await app().request("/user", { headers: { "if-none-match": '"stale"' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(body);
  });

  test("an answer c.json didn't make is hashed from its bytes, which it keeps", async () => {
    const res = await app().request("/text");
    expect(res.headers.get("etag")).toBe(sha1("plain words"));
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    expect(await res.text()).toBe("plain words");
    const cached = await app().request("/text", { headers: { "if-none-match": sha1("plain words") } });
    expect(cached.status).toBe(304);
  });

  test("the tag is of the answer sent, with its headers and init kept", async () => {
    const res = await app().request("/other");
    expect(res.headers.get("etag")).toBe(sha1(JSON.stringify(body)));
    expect(res.headers.get("x-made")).toBe("second");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual(body);
  });

  test("HEAD gets the tag GET gets", async () => {
    const res = await app().request("/user", { method: "HEAD" });
    expect(res.headers.get("etag")).toBe(sha1(JSON.stringify(body)));
  });

  test("errors and other methods get no ETag", async () => {
    expect((await app().request("/missing")).headers.get("etag")).toBeNull();
    expect((await app().request("/user", { method: "POST" })).headers.get("etag")).toBeNull();
  });
});
