// Failed validation → 422 problem+json listing every field error.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import { problemResponse } from "./problem.ts";
import { literalPathRouter } from "./router.ts";

/** fieldErrors flattens zod issues to {field, message} pairs ("body" for the body as a whole). */
export function fieldErrors(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ field: key, message: "is not an accepted field" }));
    if (issue.code === "invalid_type" && issue.path.length === 0) return [{ field: "body", message: "must be a JSON object" }];
    return [{ field: issue.path.map(String).join(".") || "body", message: issue.message }];
  });
}

/** createRouter is an OpenAPIHono whose validation failures answer 422 with every field error. */
export function createRouter() {
  return new OpenAPIHono({
    router: literalPathRouter(),
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = fieldErrors(result.error);
      return problemResponse(c, 422, `the request is invalid: ${errors.map((e) => `${e.field} ${e.message}`).join("; ")}`, { errors });
    },
  });
}
