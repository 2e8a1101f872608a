/**
 * The browser side of `dashboard_browser_test.ts`, run as a child process:
 * Playwright needs permissions the test suite does not grant (it reads
 * `/proc` and the home folder when it loads), so only this driver gets them;
 * the host under test runs in the test's own process.
 *
 * Usage: deno run -A tests/_dashboard_browser.ts <base URL> <admin key> [screenshot path]
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const [base, key, screenshot] = Deno.args;
const BROWSER_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SHIPPED = ["tasks", "analytics", "task-tracker", "notifier", "agent-enhancer", "hello"];

const profile = await Deno.makeTempDir({ prefix: "plugboard-chromium-" });
// A fresh profile each run: launchPersistentContext passes it as --user-data-dir.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium",
  headless: true,
  args: BROWSER_ARGS,
  viewport: { width: 1280, height: 900 },
});
const step = (what: string) => console.log(`step: ${what}`);
try {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);

  step("/ leads to the login form; log in with the key");
  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, "/admin");
  await page.fill('input[name="key"]', key);
  await page.click('button[type="submit"]');
  await page.waitForSelector("#plugins");

  step("every shipped plugin is shown");
  const names = await page.$$eval("article.plugin", (els) => els.map((e) => e.getAttribute("data-name")));
  for (const name of SHIPPED) assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);

  step("reload hello: its reload count changes");
  const reloads = () => page.getAttribute("#plugin-hello .reloads", "data-reloads");
  assert.equal(await reloads(), "0");
  await page.click('#plugin-hello button:text-is("Reload")');
  await page.waitForSelector('#plugin-hello .reloads[data-reloads="1"]');

  step("unload agent-enhancer");
  await page.click('#plugin-agent-enhancer button:text-is("Unload")');
  await page.waitForSelector('#plugin-agent-enhancer[data-state="unloaded"]');

  step("some traffic, for the charts");
  for (let i = 0; i < 30; i++) {
    const path = i % 3 ? "/api/plugins/hello/" : i % 2 ? "/api/plugins/analytics/stats" : "/api/plugins/hello/nope";
    await (await fetch(`${base}${path}`)).body?.cancel();
  }
  await page.reload();
  await page.waitForSelector("#plugins");

  step("a failing task: its failure appears live");
  await page.waitForSelector('#live-events[data-connected="true"]', { state: "attached" });
  const res = await fetch(`${base}/api/plugins/tasks/?wait=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "Please fail this" }),
  });
  await res.body?.cancel();
  await page.waitForSelector('#live-events li.error:has-text("task.failed")');
  await page.waitForTimeout(300); // the list refreshed by the events settles

  if (screenshot) {
    step(`screenshot to ${screenshot}`);
    await page.screenshot({ path: screenshot, fullPage: false });
  }

  step("an action without the session is refused, and the refusal shown in place");
  await context.clearCookies();
  // Run in the page (a string: this file is checked without the DOM's types).
  const status = await page.evaluate(`(async () => {
    const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    const r = await fetch("/admin/plugins/hello/reload", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "hx-request": "true" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    return r.status;
  })()`);
  assert.equal(status, 401);
  await page.click('#plugin-hello button:text-is("Reload")');
  await page.waitForSelector('#plugin-hello [data-problem]:has-text("401")');
  assert.equal(await reloads(), "1", "the refused reload did not run");
  console.log("browser: ok");
} finally {
  await context.close();
  await Deno.remove(profile, { recursive: true }).catch(() => {});
}
