import type {} from "../plugins/tasks/events.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { PluginLifecycleEvent, SystemErrorEvent } from "../mod.ts";
import { MOD_URL, pluginSource, quietHost, tempPlugins, timerTurns, waitFor } from "./_helpers.ts";

Deno.test("start() discovers plugins/*/mod.ts and loads them in dependency order", async () => {
  await using tmp = await tempPlugins({
    "a-tracker/mod.ts": pluginSource("tracker", {
      dependencies: { tasks: "^1.0.0" },
      setup: "globalThis.__order.push('tracker'); ctx.services.resolve('tasks');",
    }),
    "b-tasks/mod.ts": pluginSource("tasks", {
      version: "1.2.0",
      setup: "globalThis.__order.push('tasks'); ctx.services.provide('tasks', {});",
    }),
    ".hidden/mod.ts": pluginSource("hidden"),
    "no-entry/readme.md": "not a plugin",
  });
  (globalThis as Record<string, unknown>).__order = [];
  const host = quietHost({ pluginsDir: tmp.dir });
  const list = await host.start();
  assert.deepEqual((globalThis as Record<string, unknown>).__order, ["tasks", "tracker"]);
  assert.deepEqual(list.map((p) => [p.name, p.state]), [["tracker", "active"], ["tasks", "active"]]);
  const tasks = host.get("tasks")!;
  assert.equal(tasks.version, "1.2.0");
  assert.equal(tasks.source, join(tmp.dir, "b-tasks/mod.ts"));
  assert.deepEqual(tasks.services, ["tasks"]);
  assert.ok(tasks.timings.totalMs! >= tasks.timings.setupMs!);
  assert.ok(typeof tasks.loadedAt === "string");
  await host.stop();
  assert.deepEqual(host.list().map((p) => p.state), ["unloaded", "unloaded"]);
});

Deno.test("lifecycle events fire for each transition, with timings", async () => {
  await using tmp = await tempPlugins({ "hello/mod.ts": pluginSource("hello") });
  const host = quietHost({ pluginsDir: tmp.dir });
  const seen: string[] = [];
  let loaded: PluginLifecycleEvent | undefined;
  host.events.on("plugin.*", (p, name) => {
    seen.push(`${name}:${p.name}`);
    if (name === "plugin.loaded") loaded = p;
  });
  await host.start();
  await host.unload("hello");
  assert.deepEqual(seen, [
    "plugin.discovered:hello",
    "plugin.loading:hello",
    "plugin.loaded:hello",
    "plugin.unloading:hello",
    "plugin.unloaded:hello",
  ]);
  assert.equal(typeof loaded?.durationMs, "number");
  assert.equal(loaded?.version, "1.0.0");
});

Deno.test('config.json with "enabled": false skips the plugin', async () => {
  await using tmp = await tempPlugins({
    "off/mod.ts": pluginSource("off", { setup: "throw new Error('must not run')" }),
    "off/config.json": '{ "enabled": false }',
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("off")?.state, "disabled");
  assert.equal(host.get("off")?.error, undefined);
});

Deno.test("faults are contained: each broken plugin fails alone with its reason", async () => {
  await using tmp = await tempPlugins({
    "good/mod.ts": pluginSource("good"),
    "syntax/mod.ts": "export default { name: 'syntax', version: '1.0.0', setup() { ",
    "nodefault/mod.ts": "export const x = 1;",
    "throws/mod.ts": pluginSource("throws", { setup: "throw new Error('setup exploded')" }),
    "rejects/mod.ts": pluginSource("rejects", { setup: "return Promise.reject(new Error('async nope'))" }),
    "badconfig/mod.ts": `import { z } from "zod";
export default { name: "badconfig", version: "1.0.0", config: z.object({ timeout: z.number() }), setup() {} };`,
    "badconfig/config.json": '{ "timeout": "30s" }',
    "badname/mod.ts": pluginSource("Bad Name"),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  const failedEvents: string[] = [];
  host.events.on("plugin.failed", (p) => failedEvents.push(p.name));
  const list = await host.start();
  const byName = Object.fromEntries(list.map((p) => [p.name, p]));
  assert.equal(byName.good.state, "active");
  assert.equal(byName.syntax.state, "failed");
  assert.equal(byName.syntax.errorCode, "IMPORT_FAILED");
  assert.match(byName.syntax.error!, /^Cannot load plugin "syntax": importing .*syntax\/mod.ts failed: /);
  assert.match(byName.nodefault.error!, /has no default export/);
  assert.equal(byName.throws.errorCode, "SETUP_FAILED");
  assert.match(byName.throws.error!, /^Cannot load plugin "throws": setup threw: setup exploded$/);
  assert.match(byName.rejects.error!, /setup threw: async nope/);
  assert.equal(byName.badconfig.errorCode, "INVALID_CONFIG");
  assert.equal(byName.badconfig.version, "1.0.0", "the manifest was read, so its version is shown");
  assert.match(byName.badconfig.error!, /config.json field "timeout" is invalid .*current value is "30s"/);
  assert.equal(byName.badname.errorCode, "INVALID_PLUGIN");
  assert.equal(failedEvents.length, 6);
});

Deno.test("a setup that never settles fails after setupTimeout and the host goes on", async () => {
  await using tmp = await tempPlugins({
    "hang/mod.ts": pluginSource("hang", {
      setup: "ctx.events.on('task.created', () => {}); return new Promise(() => {});",
    }),
    "fine/mod.ts": pluginSource("fine"),
  });
  const host = quietHost({ pluginsDir: tmp.dir, setupTimeout: 50 });
  await host.start();
  const hang = host.get("hang")!;
  assert.equal(hang.state, "failed");
  assert.equal(hang.errorCode, "TIMEOUT");
  assert.match(hang.error!, /^Cannot load plugin "hang": setup timed out after 50 ms/);
  assert.equal(host.get("fine")!.state, "active");
  assert.equal(host.events.listenerCount(), 0, "a failed setup leaves no listener behind");
});

Deno.test("dependency failures fail only the plugins involved", async () => {
  await using tmp = await tempPlugins({
    "base/mod.ts": pluginSource("base", { setup: "throw new Error('base broke')" }),
    "child/mod.ts": pluginSource("child", { dependencies: { base: "^1.0.0" } }),
    "wants-new/mod.ts": pluginSource("wants-new", { dependencies: { free: "^2.0.0" } }),
    "free/mod.ts": pluginSource("free"),
    "loop-a/mod.ts": pluginSource("loop-a", { dependencies: { "loop-b": "*" } }),
    "loop-b/mod.ts": pluginSource("loop-b", { dependencies: { "loop-a": "*" } }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("free")!.state, "active");
  assert.match(host.get("child")!.error!, /its dependency "base" failed to set up \(child → base\)/);
  assert.match(host.get("wants-new")!.error!, /depends on "free" \^2.0.0, but version 1.0.0 is loaded/);
  assert.match(host.get("loop-a")!.error!, /dependency cycle loop-a → loop-b → loop-a/);
  assert.equal(host.get("loop-b")!.state, "failed");
});

Deno.test("unloading a plugin others depend on is refused unless cascading", async () => {
  await using tmp = await tempPlugins({
    "tasks/mod.ts": pluginSource("tasks"),
    "tracker/mod.ts": pluginSource("tracker", { dependencies: { tasks: "*" } }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  await assert.rejects(host.unload("tasks"), {
    code: "CONFLICT",
    message:
      'Cannot unload plugin "tasks": "tracker" depends on it. Unload it first, or unload with cascade (?cascade=true over HTTP, { cascade: true } in code)',
  });
  assert.equal(host.get("tasks")!.state, "active");
  await host.unload("tasks", { cascade: true });
  assert.equal(host.get("tracker")!.state, "unloaded");
  assert.equal(host.get("tasks")!.state, "unloaded");
  await assert.rejects(host.unload("nope"), { code: "NOT_FOUND" });
});

Deno.test("stop() unloads in reverse dependency order", async () => {
  await using tmp = await tempPlugins({
    "a/mod.ts": pluginSource("a", { dependencies: { b: "*" }, extra: "teardown() { globalThis.__stop.push('a'); }," }),
    "b/mod.ts": pluginSource("b", { dependencies: { c: "*" }, extra: "teardown() { globalThis.__stop.push('b'); }," }),
    "c/mod.ts": pluginSource("c", { extra: "teardown() { globalThis.__stop.push('c'); }," }),
  });
  (globalThis as Record<string, unknown>).__stop = [];
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  await host.stop();
  assert.deepEqual((globalThis as Record<string, unknown>).__stop, ["a", "b", "c"]);
});

Deno.test("unload undoes everything in reverse order, even when the plugin's own unload throws", async () => {
  await using tmp = await tempPlugins({
    "messy/mod.ts": `export default {
  name: "messy", version: "1.0.0",
  setup(ctx) {
    const log = globalThis.__log = [];
    ctx.events.on("task.created", () => log.push("event"));
    ctx.events.on("task.*", () => {});
    ctx.services.provide("messy", { ok: true });
    ctx.services.factory("messy-lazy", () => ({}));
    ctx.routes.get("/x", (c) => c.text("x"));
    ctx.middleware(async (_c, next) => { await next(); });
    ctx.onDispose(() => log.push("dispose-1"));
    ctx.onDispose(() => { log.push("dispose-2"); throw new Error("dispose-2 failed"); });
    ctx.setInterval(() => log.push("tick"), 1);
    ctx.signal.addEventListener("abort", () => log.push("aborted"));
  },
  teardown() { globalThis.__log.push("teardown"); throw new Error("teardown failed"); },
};`,
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  const baseListeners = host.events.listenerCount();
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => errors.push(e));
  const baseServices = host.services.names();
  await host.start();
  const info = host.get("messy")!;
  assert.deepEqual(info.services, ["messy", "messy-lazy"]);
  assert.deepEqual(info.routes, ["GET /api/plugins/messy/x"]);
  assert.equal(host.routes.middleware.length, 1);
  assert.equal(host.events.listenerCount(undefined, "messy"), 2);
  const log = (globalThis as Record<string, unknown>).__log as string[];
  await waitFor(() => log.includes("tick"), { what: "the interval to tick" });
  await host.unload("messy");
  const ticks = log.filter((l) => l === "tick").length;
  assert.deepEqual(log.filter((l) => l !== "tick"), ["teardown", "aborted", "dispose-2", "dispose-1"]);
  await timerTurns(5);
  assert.equal(log.filter((l) => l === "tick").length, ticks, "the interval was cleared");
  assert.equal(host.events.listenerCount(), baseListeners + 1, "only the test's own system.error listener is left");
  assert.deepEqual(host.services.names(), baseServices);
  assert.equal(host.routes.get("messy"), undefined);
  assert.equal(host.routes.middleware.length, 0);
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin, (e.error as Error).message]), [
    ["dispose", "messy", "teardown failed"],
    ["dispose", "messy", "dispose-2 failed"],
  ]);
  host.events.emit("task.created", { taskId: "t" });
  assert.ok(!log.includes("event"));
});

Deno.test("a timer callback that throws becomes system.error and the timer keeps its plugin alive", async () => {
  await using tmp = await tempPlugins({
    "ticker/mod.ts": pluginSource("ticker", { setup: "ctx.setTimeout(() => { throw new Error('tick failed'); }, 1);" }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => errors.push(e));
  await host.start();
  await waitFor(() => errors.length > 0, { what: "the timer's system.error" });
  assert.deepEqual(errors.map((e) => [e.origin, e.plugin]), [["timer", "ticker"]]);
  assert.equal(host.get("ticker")!.state, "active");
  await host.stop();
});

Deno.test("registrations made in setup go live only when setup succeeds", async () => {
  await using tmp = await tempPlugins({
    "half/mod.ts": pluginSource("half", {
      setup:
        "ctx.events.on('task.created', () => {}); ctx.services.provide('half', 1); ctx.routes.get('/', (c) => c.text('x')); throw new Error('late failure');",
    }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("half")!.state, "failed");
  assert.equal(host.events.listenerCount(), 0);
  assert.equal(host.services.has("half"), false);
  assert.equal(host.routes.get("half"), undefined);
});

Deno.test("two plugins with the same name: the second fails with CONFLICT", async () => {
  await using tmp = await tempPlugins({
    "one/mod.ts": pluginSource("same"),
    "two/mod.ts": pluginSource("same"),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("same")!.state, "active");
  const failed = host.list().find((p) => p.state === "failed")!;
  assert.equal(failed.errorCode, "CONFLICT");
  assert.match(failed.error!, /a plugin with that name is already being loaded from .*one\/mod.ts/);
  await assert.rejects(host.load(join(tmp.dir, "one/mod.ts")), { code: "CONFLICT" });
});

Deno.test("a service another plugin already provides fails the second plugin with both named", async () => {
  await using tmp = await tempPlugins({
    "a/mod.ts": pluginSource("a", { setup: "ctx.services.provide('shared', 1);" }),
    "b/mod.ts": pluginSource("b", { setup: "ctx.services.provide('shared', 2);" }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.match(
    host.get("b")!.error!,
    /Cannot provide service "shared" for plugin "b": it is already provided by plugin "a"/,
  );
  assert.equal(host.services.resolve("shared"), 1);
});

Deno.test("load() and reload(): a broken new version never replaces a working one", async () => {
  await using tmp = await tempPlugins({
    "svc/mod.ts": pluginSource("svc", { setup: "ctx.services.provide('svc', { v: 1 });" }),
  });
  const host = quietHost({ pluginsDir: null, allowRead: [tmp.dir] });
  const info = await host.load(join(tmp.dir, "svc/mod.ts"));
  assert.equal(info.state, "active");
  await tmp.write(
    "svc/mod.ts",
    pluginSource("svc", { setup: "ctx.services.provide('svc', { v: 2 }); throw new Error('v2 broken');" }),
  );
  const failed: string[] = [];
  host.events.on("plugin.reload_failed", (p) => failed.push(p.error!));
  await assert.rejects(host.reload("svc"), /setup threw: v2 broken/);
  assert.equal(host.get("svc")!.state, "active");
  assert.match(host.get("svc")!.reloadError!, /v2 broken/);
  assert.deepEqual(host.services.resolve("svc"), { v: 1 });
  assert.equal(failed.length, 1);
  await tmp.write("svc/mod.ts", pluginSource("svc", { setup: "ctx.services.provide('svc', { v: 3 });" }));
  const after = await host.reload("svc");
  assert.equal(after.reloads, 1);
  assert.equal(after.reloadError, undefined);
  assert.deepEqual(host.services.resolve("svc"), { v: 3 });
});

Deno.test("a class-based plugin loads, exposes getService() and unloads", async () => {
  await using tmp = await tempPlugins({
    "counter/mod.ts": `import { Plugin } from ${JSON.stringify(MOD_URL)};
export default class Counter extends Plugin {
  info = { name: "counter", version: "1.0.0", description: "Counts tasks" };
  count = 0;
  load(ctx) { ctx.events.on("task.created", () => this.count++); }
  unload() { globalThis.__counterUnloaded = true; }
  getService() { return { count: () => this.count }; }
}`,
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  host.events.emit("task.created", { taskId: "t" });
  assert.equal(host.services.resolve<{ count(): number }>("counter").count(), 1);
  assert.equal(host.get("counter")!.description, "Counts tasks");
  await host.unload("counter");
  assert.equal((globalThis as Record<string, unknown>).__counterUnloaded, true);
  assert.equal(host.services.has("counter"), false);
});

Deno.test("ctx.reload() reloads the plugin through the host", async () => {
  await using tmp = await tempPlugins({
    "self/mod.ts": pluginSource("self", { setup: "ctx.services.provide('self-reload', () => ctx.reload());" }),
  });
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  await host.services.resolve<() => Promise<void>>("self-reload")();
  assert.equal(host.get("self")!.reloads, 1);
});

Deno.test("per-plugin loggers carry the plugin name; debug is off unless asked", async () => {
  await using tmp = await tempPlugins({
    "talk/mod.ts": pluginSource("talk", { setup: "ctx.log.debug('dbg'); ctx.log.info('hi');" }),
  });
  const host = quietHost({ pluginsDir: tmp.dir, logger: { level: "info", sink: (r) => records.push(r) } });
  const records: { name: string; level: string; message: string }[] = [];
  await host.start();
  assert.deepEqual(records.filter((r) => r.name === "talk").map((r) => `${r.level}:${r.message}`), ["info:hi"]);
});
