// Swagger UI in a real browser (Debian's chromium driven by playwright-core): it renders the
// operations, works with no network beyond this gateway, and Authorize + "Try it out" reach the API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startTestStack, type Session, type TestStack } from "../../test/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(import.meta.dir, "../../test-artifacts");
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[docs.browser] skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

let stack: TestStack;
let session: Session;
let profile: string;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  stack = await startTestStack();
  session = await stack.register();
  profile = mkdtempSync(join(tmpdir(), "swagger-ui-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
    viewport: { width: 1280, height: 1600 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (request) => void requests.push(request.url()));
  page.on("console", (message) => void (message.type() === "error" && consoleErrors.push(message.text())));
  page.on("pageerror", (error) => void consoleErrors.push(String(error)));
}, 60_000);

afterAll(async () => {
  if (!hasChromium) return;
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await stack?.close();
});

describe.skipIf(!hasChromium)("swagger ui in chromium", () => {
  test("renders the Authentication and Users operations from the local spec", async () => {
    await page.goto(`${stack.url}/swagger-ui`, { waitUntil: "networkidle" });
    // Every check waits for the page (Swagger UI renders after the spec arrives), none reads once.
    for (const tag of ["Authentication", "Users"]) await page.locator(`#operations-tag-${tag}`).waitFor({ state: "visible" });
    await page.locator("#operations-Users-getCurrentUser").waitFor({ state: "visible" });
    const expected = ["/auth/register", "/auth/login", "/users/me", "/users/{id}"];
    const shown = await page
      .waitForFunction(
        (wanted) => {
          // Runs in the page; the test's tsconfig has no DOM types, so the one call used is typed here.
          const page = globalThis as unknown as {
            document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> };
          };
          const paths = [...page.document.querySelectorAll(".opblock-summary-path")].map((el) =>
            (el.textContent ?? "").replace(/\u200b/g, ""),
          );
          return wanted.every((path) => paths.includes(path)) && paths;
        },
        expected,
        { timeout: 15_000 },
      )
      .then((handle) => handle.jsonValue() as Promise<string[]>)
      .catch(async (error) => {
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, "swagger-ui-render-failure.png"), fullPage: true });
        throw new Error(`Swagger UI did not show ${expected.join(", ")}: ${error}; console: ${consoleErrors.join(" | ")}`);
      });
    expect(shown).toEqual(expect.arrayContaining(expected));
  }, 30_000);

  test("Authorize with a bearer token, then Try it out on GET /users/me shows the user", async () => {
    await page.locator("button.authorize").first().click();
    const modal = page.locator(".modal-ux");
    await modal.locator("input").fill(session.access_token);
    await modal.getByRole("button", { name: "Apply credentials" }).click();
    await modal.getByRole("button", { name: "Close" }).click();

    const operation = page.locator("#operations-Users-getCurrentUser");
    await operation.locator(".opblock-summary").click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    const [response] = await Promise.all([
      page.waitForResponse((res) => res.url() === `${stack.url}/users/me`),
      operation.getByRole("button", { name: "Execute" }).click(),
    ]);
    expect(response.status()).toBe(200);
    const live = operation.locator(".live-responses-table .response");
    await live.locator(".response-col_status").first().waitFor();
    // innerText, not textContent: the test reads what the page shows, as a person would.
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point
    expect((await live.locator(".response-col_status").first().innerText()).trim()).toBe("200");
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point
    await expect(live.locator(".response-col_description pre").first().innerText()).resolves.toContain(session.user.email);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "swagger-ui.png"), fullPage: true });
  }, 30_000);

  test("every request the page made went to this gateway on 127.0.0.1, and nothing logged an error", () => {
    expect(requests.length).toBeGreaterThan(0);
    const origin = new URL(stack.url).origin;
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(new URL(stack.url).hostname).toBe("127.0.0.1");
    expect(consoleErrors).toEqual([]);
  });
});
