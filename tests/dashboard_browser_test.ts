/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core): log in, see the shipped plugins, reload one and see its
 * count change, unload one, see a failing task appear live, and have an
 * action without the session refused. Skipped, with the reason printed, only
 * where no browser is installed (`.ci/run` installs one).
 *
 * The host runs here, with the suite's permissions; the browser driver runs
 * in a child process (`_dashboard_browser.ts`) with `-A`, because
 * playwright-core reads `/proc` and the home folder as it loads.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { serve } from "../mod.ts";
import { denoCommand, folderHost, ROOT_DIR } from "./_helpers.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const KEY = "browser-test-key-0123456789abcdef";

const missing = await Deno.stat(CHROMIUM).then(() => undefined, () => `no browser at ${CHROMIUM}`);
if (missing) {
  console.log(`dashboard_browser_test: skipped: ${missing} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

Deno.test({
  name: "dashboard in a browser: login, shipped plugins, reload count, unload, a failure live, refusal without session",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "plugboard-browser-" });
    const host = folderHost(dir, {
      pluginsDir: join(ROOT_DIR, "plugins"),
      dataDir: join(dir, "data"),
      apiKey: KEY,
      isolation: "worker",
      config: { tasks: { workMs: 10 } },
      logger: { level: "info", sink: () => {} },
    });
    await host.start();
    const server = serve(host, { port: 0 });
    try {
      const screenshot = Deno.env.get("DASHBOARD_SCREENSHOT");
      const out = await denoCommand("run", [
        "-A",
        join(ROOT_DIR, "tests", "_dashboard_browser.ts"),
        `http://127.0.0.1:${server.addr.port}`,
        KEY,
        ...(screenshot ? [screenshot] : []),
      ], { env: { NO_COLOR: "1", CHROMIUM_PATH: CHROMIUM } }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.match(text, /browser: ok/);
      assert.equal(host.get("hello")?.reloads, 1);
      assert.equal(host.get("agent-enhancer")?.state, "unloaded");
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
