// The OpenAPI 3.1 document (derived from the zod routes) and Swagger UI, whose assets the gateway
// serves itself from swagger-ui-dist: no CDN, so the UI works offline and in locked-down networks.
// The `type: "file"` imports also embed the assets in `bun build --compile` executables.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import preset from "swagger-ui-dist/swagger-ui-standalone-preset.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };

// A Map, not an object literal: a request for /swagger-ui/constructor or /swagger-ui/__proto__ must
// find nothing rather than an inherited Object property.
const ASSETS = new Map<string, [path: string, type: string]>([
  ["swagger-ui-bundle.js", [bundle, "text/javascript; charset=utf-8"]],
  ["swagger-ui-standalone-preset.js", [preset, "text/javascript; charset=utf-8"]],
  ["swagger-ui.css", [css, "text/css; charset=utf-8"]],
  ["favicon-32x32.png", [favicon, "image/png"]],
]);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>bun-api-starter · API docs</title>
  <link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="/swagger-ui/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/swagger-ui/swagger-ui-standalone-preset.js"></script>
  <script src="/swagger-ui/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({
  url: "/api-docs/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  validatorUrl: null
});`;

const root = createRoute({
  method: "get",
  path: "/",
  operationId: "getAbout",
  tags: ["About"],
  security: [],
  summary: "The API's name, version and where its documentation is",
  responses: {
    200: {
      description: "About this API",
      content: {
        "application/json": {
          schema: z.object({ name: z.string(), version: z.string(), docs: z.literal("/swagger-ui") }).openapi("About"),
        },
      },
    },
  },
});

/** docsRoutes serves GET /, /api-docs/openapi.json and /swagger-ui from app's own route definitions. */
export function docsRoutes(app: OpenAPIHono, version: string) {
  app.openapi(root, (c) => c.json({ name: "bun-api-starter", version, docs: "/swagger-ui" as const }, 200));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "The access_token from /auth/login or /auth/register",
  });
  app.doc31("/api-docs/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "bun-api-starter",
      version,
      description: "REST gateway in front of the auth and user services. Errors are application/problem+json (RFC 9457).",
    },
    servers: [{ url: "/", description: "This server" }],
    tags: [
      { name: "Authentication", description: "Register, log in, refresh and log out" },
      { name: "Users", description: "User profiles and administration" },
      { name: "Health", description: "Probes" },
      { name: "About", description: "The API itself" },
    ],
  });
  app.get("/swagger-ui", (c) => c.html(PAGE));
  app.get("/swagger-ui/", (c) => c.redirect("/swagger-ui"));
  app.get("/swagger-ui/init.js", (c) => c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  app.get("/swagger-ui/:asset", (c) => {
    const asset = ASSETS.get(c.req.param("asset"));
    if (!asset) return c.notFound();
    return c.body(Bun.file(asset[0]).stream(), 200, { "Content-Type": asset[1], "Cache-Control": "public, max-age=86400" });
  });
  return app;
}
