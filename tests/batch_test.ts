/**
 * Loading several plugins at once: those of one dependency level are set up
 * together, and go live in dependency order whichever setup finishes first.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { dependencyLevels } from "../src/lifecycle/batch.ts";
import type { PreparedPlugin } from "../src/loader.ts";
import { folderHost, pluginSource, quietHost, tempPlugins } from "./_helpers.ts";

/** A stand-in for a prepared plugin: only its name and dependencies matter here. */
const item = (name: string, dependencies: Record<string, string> = {}) => ({
  name,
  prepared: { version: { manifest: { name, dependencies } } } as unknown as PreparedPlugin,
});

Deno.test("dependencyLevels(): no plugin shares a level with one it needs; order inside a level is kept", () => {
  const levels = dependencyLevels([
    item("tasks"),
    item("tracker", { tasks: "^1.0.0" }),
    item("hello"),
    item("report", { tracker: "^1.0.0", hello: "^1.0.0" }),
    item("notes", { outside: "^1.0.0" }),
  ]);
  assert.deepEqual(levels.map((l) => l.map((i) => i.name)), [["tasks", "hello", "notes"], ["tracker"], ["report"]]);
  assert.deepEqual(dependencyLevels([]), []);
});

Deno.test("plugins of one level set up together; they go live in order, and a late dependency waits", async () => {
  // "a" and "b" each wait in setup until the other's setup has started: one by one, this would time out.
  const waitForOther = (me: string, other: string) => `
    globalThis.__batchTest ??= {};
    globalThis.__batchTest.${me} = true;
    for (let i = 0; i < 200 && !globalThis.__batchTest.${other}; i++) await new Promise((r) => setTimeout(r, 10));
    if (!globalThis.__batchTest.${other}) throw new Error("${other} never started");
    ctx.middleware(async (_c, next) => { await next(); });
    (globalThis.__batchTest.live ??= []).push("${me}");`;
  await using tmp = await tempPlugins({
    "plugins/b/mod.ts": pluginSource("b", {
      extra: "async setup(ctx) {" + waitForOther("b", "a") + "},",
    }).replace("setup(ctx) {  },", ""),
    "plugins/a/mod.ts": pluginSource("a", {
      extra: "async setup(ctx) {" + waitForOther("a", "b") + "},",
    }).replace("setup(ctx) {  },", ""),
    "plugins/c/mod.ts": pluginSource("c", {
      dependencies: { a: "^1.0.0" },
      setup: `(globalThis.__batchTest.live ??= []).push("c"); ctx.middleware(async (_c, next) => { await next(); });`,
    }),
  });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins"), setupTimeout: 10_000 });
  try {
    await host.start();
    assert.deepEqual(host.list().map((p) => [p.name, p.state, p.error]), [
      ["a", "active", undefined],
      ["b", "active", undefined],
      ["c", "active", undefined],
    ]);
    // c's setup ran only after a was live; the middleware went live in dependency order (a, b, then c).
    assert.deepEqual((globalThis as { __batchTest?: { live: string[] } }).__batchTest?.live.at(-1), "c");
    assert.deepEqual(host.routes.middleware.map((m) => m.owner), ["a", "b", "c"]);
  } finally {
    await host.stop();
    delete (globalThis as { __batchTest?: unknown }).__batchTest;
  }
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`(${isolation}) two plugins of one level providing one service: the later fails, named, and holds nothing`, async () => {
    await using tmp = await tempPlugins({
      "plugins/a/mod.ts": pluginSource("a", { setup: "ctx.services.provide('svc', { v: 'a' });" }),
      "plugins/b/mod.ts": pluginSource("b", {
        setup: "ctx.services.provide('svc', { v: 'b' }); ctx.routes.get('/x', (c) => c.text('b'));",
      }),
    });
    const host = folderHost(tmp.dir, { isolation });
    try {
      await host.start();
      assert.equal(host.get("a")!.state, "active");
      assert.equal(host.get("b")!.state, "failed");
      assert.match(
        host.get("b")!.error!,
        /Cannot provide service "svc" for plugin "b": it is already provided by plugin "a"/,
      );
      assert.equal(host.services.owner("svc"), "a");
      assert.equal(host.routes.get("b"), undefined, "what b registered besides the service is undone too");
    } finally {
      await host.stop();
    }
  });
}
