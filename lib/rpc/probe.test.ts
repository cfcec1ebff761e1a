import { expect, test } from "bun:test";
import { silentLog } from "../../test/services.ts";
import { createHealth, ServingStatus } from "./health.ts";
import { probeDependency } from "./probe.ts";

test("probeDependency turns the service and overall health NOT_SERVING while the check fails, and back", async () => {
  const health = createHealth(["demo.v1.Demo"]);
  let up = false;
  const stop = probeDependency({
    health,
    service: "demo.v1.Demo",
    dependency: "database",
    check: async () => {
      if (!up) throw new Error("down");
    },
    log: silentLog,
    intervalMs: 10,
  });
  await Bun.sleep(50);
  expect(health.get("demo.v1.Demo")).toBe(ServingStatus.NOT_SERVING);
  expect(health.get("")).toBe(ServingStatus.NOT_SERVING);
  up = true;
  await Bun.sleep(50);
  expect(health.get("demo.v1.Demo")).toBe(ServingStatus.SERVING);
  expect(health.get("")).toBe(ServingStatus.SERVING);
  stop();
  up = false;
  await Bun.sleep(50);
  expect(health.get("demo.v1.Demo")).toBe(ServingStatus.SERVING);
});
