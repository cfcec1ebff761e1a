import { expect, test } from "bun:test";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { addSecurityHeaders, SECURITY_HEADERS } from "./security-headers.ts";

test("the list is exactly what hono's secureHeaders sets with the gateway's options", async () => {
  const app = new Hono();
  app.use(secureHeaders({ contentSecurityPolicy: undefined, crossOriginEmbedderPolicy: false }));
  app.get("/", (c) => c.body(null, 204));
  const fromHono = [...(await app.request("/")).headers];
  const ours = new Headers();
  addSecurityHeaders(ours);
  expect([...ours]).toEqual(fromHono);
  expect(SECURITY_HEADERS).toHaveLength(fromHono.length);
});
