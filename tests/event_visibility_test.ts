/**
 * An isolated plugin sees the host's events about other plugins without
 * their details (error messages, stacks, sources) unless its manifest
 * declares `permissions.observe`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";

const watcher = (name: string, observe?: string[]) =>
  pluginSource(name, {
    extra: observe ? `permissions: { observe: ${JSON.stringify(observe)} },` : "",
    setup: `const seen = [];
      ctx.events.on("system.error", (e) => void seen.push(e));
      ctx.events.on("plugin.*", (e, name) => void seen.push({ name, ...e }));
      ctx.routes.get("/", (c) => c.json(seen));`,
  });

Deno.test("visibility: system.* and plugin.* about other plugins come without details unless observed", async () => {
  await using tmp = await tempPlugins({
    "plugins/billing/mod.ts": pluginSource("billing", {
      setup: `ctx.routes.get("/", () => { throw new Error("the database password is hunter2"); });`,
    }),
    "plugins/spy/mod.ts": watcher("spy"),
    "plugins/auditor/mod.ts": watcher("auditor", ["system", "plugin"]),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const get = async (path: string) => {
      const res = await host.fetch(new Request(`http://localhost${path}`), LOOPBACK);
      return res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
    };
    await get("/api/plugins/billing/");
    await host.reload("billing");
    const seenBy = (name: string) => get(`/api/plugins/${name}/`) as Promise<Record<string, unknown>[]>;
    await waitFor(async () => (await seenBy("auditor")).some((e) => e.origin === "route"), { what: "the report" });
    await waitFor(async () => (await seenBy("spy")).some((e) => e.origin === "route"), { what: "the spy's copy" });
    const spy = JSON.stringify(await seenBy("spy"));
    assert.doesNotMatch(spy, /hunter2/, "the spy never sees the other plugin's error message");
    assert.doesNotMatch(spy, /plugins\/billing\/mod\.ts/, "nor its source path");
    assert.match(spy, /a failure in plugin \\"billing\\" \(its details need permissions\.observe/);
    const auditor = JSON.stringify(await seenBy("auditor"));
    assert.match(auditor, /hunter2/, "a plugin that declares observe sees the details");
    assert.match(auditor, /plugins\/billing\/mod\.ts/);
    assert.match(host.get("auditor")!.permissions ? JSON.stringify(host.get("auditor")!.permissions) : "", /observe/);
  } finally {
    await host.stop();
  }
});
