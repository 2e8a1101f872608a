/**
 * The memory budget of an isolated plugin is judged on the heap as the
 * runtime reports it, read with a function taken before the plugin's code
 * ran: replacing `Deno.memoryUsage` hides nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";
import type { SystemErrorEvent } from "../mod.ts";

Deno.test("memory: a plugin that forges Deno.memoryUsage is still ended past its budget", async () => {
  await using tmp = await tempPlugins({
    "plugins/hog/mod.ts": `
      Deno.memoryUsage = () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0 });
      const kept = [];
      export default {
        name: "hog",
        version: "1.0.0",
        setup(ctx) {
          // About 80 MB of live arrays, over a 32 MB budget, while the forged report says 0.
          ctx.setTimeout(() => { for (let i = 0; i < 80; i++) kept.push(new Array(131072).fill(i)); }, 1);
        },
      };`,
    "plugins/bystander/mod.ts": pluginSource("bystander"),
  });
  const host = folderHost(tmp.dir, { isolation: "worker", memoryLimitMb: 32, hangTimeout: 2000 });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void errors.push(e));
  await host.start();
  try {
    await waitFor(() => errors.some((e) => e.plugin === "hog" && /over its 32 MB budget/.test(e.message)), {
      timeoutMs: 20_000,
      what: "the budget to end the worker",
    });
    assert.equal(host.get("bystander")!.state, "active");
  } finally {
    await host.stop();
  }
});
