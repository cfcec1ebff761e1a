import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bodyOf, startTestStack, type TestStack } from "../../test/stack.ts";

type Operation = {
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Spec = {
  openapi: string;
  info: { title: string; version: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

let stack: TestStack;
let spec: Spec;
beforeAll(async () => {
  stack = await startTestStack();
  spec = await bodyOf<Spec>(await stack.fetch("/api-docs/openapi.json"));
});
afterAll(() => stack.close());

// Issue 5's routes: [method, path, tag, needs a bearer token].
const ROUTES = [
  ["post", "/auth/register", "Authentication", false],
  ["post", "/auth/login", "Authentication", false],
  ["post", "/auth/refresh", "Authentication", false],
  ["post", "/auth/logout", "Authentication", true],
  ["get", "/users/me", "Users", true],
  ["get", "/users", "Users", true],
  ["get", "/users/{id}", "Users", true],
  ["put", "/users/{id}", "Users", true],
  ["delete", "/users/{id}", "Users", true],
  ["post", "/users/{id}/restore", "Users", true],
] as const;
const operation = (method: string, path: string) => spec.paths[path]?.[method];

describe("get /api-docs/openapi.json", () => {
  test("is an OpenAPI 3.1 document with the Authentication and Users tags and the bearer scheme", () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/);
    expect(spec.info.version).toBe("0.0.0-test");
    expect(spec.tags.map((t) => t.name)).toEqual(expect.arrayContaining(["Authentication", "Users"]));
    expect(spec.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "JWT" }),
    );
  });

  test("lists every route of the API under its tag, with bearer security where a token is needed", () => {
    for (const [method, path, tag, secured] of ROUTES) {
      const op = operation(method, path);
      expect({ route: `${method} ${path}`, tags: op?.tags, security: op?.security }).toEqual({
        route: `${method} ${path}`,
        tags: [tag],
        security: secured ? [{ bearerAuth: [] }] : [],
      });
    }
    expect(operation("get", "/")?.responses["200"]).toBeDefined();
    for (const path of ["/health", "/health/live", "/health/ready"]) expect(operation("get", path)).toBeDefined();
  });

  test("documents request bodies, success schemas and every error as problem+json", () => {
    for (const [method, path] of ROUTES) {
      const op = operation(method, path)!;
      if (method === "put" || path.startsWith("/auth/")) expect(op.requestBody?.content["application/json"]?.schema).toBeDefined();
      for (const [status, response] of Object.entries(op.responses)) {
        const code = Number(status);
        if (code >= 400)
          expect([method, path, status, response.content?.["application/problem+json"]?.schema]).toEqual([
            method,
            path,
            status,
            { $ref: "#/components/schemas/Problem" },
          ]);
        else if (code !== 204) expect(response.content?.["application/json"]?.schema).toBeDefined();
      }
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["429", "503", ...(path.startsWith("/users") ? ["401"] : ["422"])]));
    }
    expect(Object.keys(spec.components.schemas)).toEqual(
      expect.arrayContaining(["User", "TokenResponse", "Problem", "RegisterRequest", "UpdateUserRequest"]),
    );
  });
});

describe("get /swagger-ui", () => {
  test("serves the page, whose scripts and styles all come from this gateway", async () => {
    const res = await stack.fetch("/swagger-ui");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(
      expect.arrayContaining(["/swagger-ui/swagger-ui.css", "/swagger-ui/swagger-ui-bundle.js", "/swagger-ui/init.js"]),
    );
    for (const asset of assets) expect([asset, (await stack.fetch(asset)).status]).toEqual([asset, 200]);
  });

  test("serves each asset with its content type, and the init script points at the local spec", async () => {
    const types: Record<string, string> = {
      "swagger-ui-bundle.js": "text/javascript",
      "swagger-ui-standalone-preset.js": "text/javascript",
      "init.js": "text/javascript",
      "swagger-ui.css": "text/css",
      "favicon-32x32.png": "image/png",
    };
    for (const [asset, type] of Object.entries(types)) {
      const res = await stack.fetch(`/swagger-ui/${asset}`);
      expect([asset, res.status, res.headers.get("content-type")?.split(";")[0]]).toEqual([asset, 200, type]);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const init = await (await stack.fetch("/swagger-ui/init.js")).text();
    expect(init).toContain('url: "/api-docs/openapi.json"');
  });

  test("answers 404 problem+json for an unknown asset or a path trick", async () => {
    for (const path of ["/swagger-ui/nope.js", "/swagger-ui/..%2f..%2fpackage.json", "/swagger-ui/%2e%2e%2fpackage.json"]) {
      const res = await stack.fetch(path);
      expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 404, "application/problem+json"]);
    }
  });

  test("answers 404 problem+json for names inherited by every object, not an Object property", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"]) {
      const path = `/swagger-ui/${name}`;
      const res = await stack.fetch(path);
      expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 404, "application/problem+json"]);
      expect((await bodyOf<{ status: number }>(res)).status).toBe(404);
    }
  });
});

describe("get /", () => {
  test("answers the API's name, version and docs location", async () => {
    const res = await stack.fetch("/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "bun-api-starter", version: "0.0.0-test", docs: "/swagger-ui" });
  });
});
