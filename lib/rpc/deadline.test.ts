import { expect, test } from "bun:test";
import type { IncomingHttpHeaders } from "node:http";
import { capDeadline } from "./deadline.ts";

const GRPC = "application/grpc";
const capped = (headers: IncomingHttpHeaders, unary = true) => {
  capDeadline(headers, unary, 30_000);
  return headers;
};

test("capDeadline gives a unary call without a deadline the maximum", () => {
  expect(capped({ "content-type": GRPC })["grpc-timeout"]).toBe("30000m");
  expect(capped({ "content-type": "application/json" })["connect-timeout-ms"]).toBe("30000");
});

test("capDeadline lowers a longer deadline and keeps a shorter one", () => {
  expect(capped({ "content-type": GRPC, "grpc-timeout": "2M" })["grpc-timeout"]).toBe("30000m");
  expect(capped({ "content-type": GRPC, "grpc-timeout": "5S" })["grpc-timeout"]).toBe("5S");
  expect(capped({ "content-type": "application/grpc-web+proto", "grpc-timeout": "9999999u" })["grpc-timeout"]).toBe("9999999u");
  expect(capped({ "content-type": "application/proto", "connect-timeout-ms": "60000" })["connect-timeout-ms"]).toBe("30000");
});

test("capDeadline leaves streams without a deadline and malformed values alone", () => {
  expect(capped({ "content-type": GRPC }, false)["grpc-timeout"]).toBeUndefined();
  expect(capped({ "content-type": GRPC, "grpc-timeout": "soon" })["grpc-timeout"]).toBe("soon");
});
