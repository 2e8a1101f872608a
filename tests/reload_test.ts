import assert from "node:assert/strict";
import { join } from "node:path";
import { HookRegistry, type PluginLifecycleEvent, serve } from "../mod.ts";
import { LOOPBACK, pluginSource, quietHost, serveStatic, tempPlugins } from "./_helpers.ts";

const THREE_FILES = (deep: string) => ({
  "plugins/layered/mod.ts": `import { message } from "./lib/service.ts";
export default { name: "layered", version: "1.0.0",
  setup(ctx) { ctx.routes.get("/", (c) => c.text(message())); ctx.services.provide("layered", { message }); } };`,
  "plugins/layered/lib/service.ts": `import { WORD } from "./deep/words.ts";
export const message = () => "word=" + WORD;`,
  "plugins/layered/lib/deep/words.ts": `export const WORD = ${JSON.stringify(deep)};`,
});

function waitFor<T>(host: { events: { once: (e: never, f: (p: T) => void) => unknown } }, event: string, ms = 5000) {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    host.events.once(event as never, (p: T) => {
      clearTimeout(t);
      resolve(p);
    });
  });
}

Deno.test("reload re-imports every file of the plugin: an edit at the deepest of three files is picked up", async () => {
  await using tmp = await tempPlugins(THREE_FILES("one"));
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  const get = async () => await (await host.fetch(new Request("http://x/api/plugins/layered/"))).text();
  assert.equal(await get(), "word=one");
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "two";`);
  await host.reload("layered");
  assert.equal(await get(), "word=two");
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "three";`);
  await host.reload("layered");
  assert.equal(await get(), "word=three");
  assert.equal(host.get("layered")!.reloads, 2);
  const snapshots = [...Deno.readDirSync(join(tmp.dir, "plugins"))].map((e) => e.name).filter((n) => n.startsWith("."));
  assert.equal(snapshots.length, 1, "only the active version's snapshot is kept");
  await host.stop();
  const left = [...Deno.readDirSync(join(tmp.dir, "plugins"))].map((e) => e.name);
  assert.deepEqual(left, ["layered"], "stop removes snapshots");
});

Deno.test("a broken new version keeps the old one serving; the failure names file, line and column", async () => {
  await using tmp = await tempPlugins(THREE_FILES("good"));
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  const failed = waitFor<PluginLifecycleEvent>(host, "plugin.reload_failed");
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = ;`);
  await assert.rejects(host.reload("layered"), { code: "IMPORT_FAILED" });
  const event = await failed;
  assert.equal(event.location?.file, join(tmp.dir, "plugins/layered/lib/deep/words.ts"));
  assert.equal(event.location?.line, 1);
  assert.equal(typeof event.location?.column, "number");
  assert.ok(!event.error!.includes("@"), `the message names the real file, not the snapshot: ${event.error}`);
  const info = host.get("layered")!;
  assert.equal(info.state, "active");
  assert.deepEqual(info.reloadErrorLocation, event.location);
  const overHttp = await (await host.fetch(
    new Request("http://x/api/plugins/layered", { headers: { "x-api-key": host.adminKey } }),
    LOOPBACK,
  )).json();
  assert.equal(overHttp.state, "active");
  assert.match(overHttp.reloadError, /^Cannot reload plugin "layered": importing .* failed/);
  assert.deepEqual(overHttp.reloadErrorLocation, event.location);
  assert.equal(await (await host.fetch(new Request("http://x/api/plugins/layered/"))).text(), "word=good");

  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "fixed";`);
  await tmp.write("plugins/layered/config.json", `{ "x": 1 }`);
  await tmp.write(
    "plugins/layered/mod.ts",
    `import { message } from "./lib/service.ts";
export default { name: "layered", version: "1.0.0",
  setup(ctx) {
    throw new Error("setup broke");
  } };`,
  );
  await assert.rejects(host.reload("layered"), /setup threw: setup broke/);
  assert.equal(host.get("layered")!.reloadErrorLocation?.file, join(tmp.dir, "plugins/layered/mod.ts"));
  assert.equal(host.get("layered")!.reloadErrorLocation?.line, 4);
  assert.equal(await (await host.fetch(new Request("http://x/api/plugins/layered/"))).text(), "word=good");
  await host.stop();
});

Deno.test("invalid config or a timeout on reload keeps the old version too", async () => {
  await using tmp = await tempPlugins({
    "plugins/cfg/mod.ts": `import { z } from "zod";
export default { name: "cfg", version: "1.0.0", config: z.object({ n: z.number() }),
  setup(ctx) { ctx.services.provide("cfg", ctx.config.n); if (ctx.config.n === 99) return new Promise(() => {}); } };`,
    "plugins/cfg/config.json": `{ "n": 1 }`,
  });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins"), setupTimeout: 100 });
  await host.start();
  await tmp.write("plugins/cfg/config.json", `{ "n": "one" }`);
  await assert.rejects(host.reload("cfg"), { code: "INVALID_CONFIG" });
  await tmp.write("plugins/cfg/config.json", `{ "n": 99 }`);
  await assert.rejects(host.reload("cfg"), { code: "TIMEOUT" });
  assert.equal(host.services.resolve("cfg"), 1);
  await tmp.write("plugins/cfg/config.json", `{ "n": 2 }`);
  await host.reload("cfg");
  assert.equal(host.services.resolve("cfg"), 2);
  await host.stop();
});

Deno.test("state handover: the next version receives what the old one handed over", async () => {
  const src = (v: number) =>
    pluginSource("stateful", {
      setup: `const seen = ctx.previous ?? new Map();
        seen.set(${v}, true);
        ctx.onHandover(() => seen);
        ctx.services.provide("stateful", () => [...seen.keys()]);`,
    });
  await using tmp = await tempPlugins({ "plugins/stateful/mod.ts": src(1) });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  await tmp.write("plugins/stateful/mod.ts", src(2));
  await host.reload("stateful");
  await tmp.write("plugins/stateful/mod.ts", src(3));
  await host.reload("stateful");
  assert.deepEqual(host.services.resolve<() => number[]>("stateful")(), [1, 2, 3]);
  await host.stop();
});

Deno.test("reloading a provider reloads its dependents, which re-resolve the new service", async () => {
  await using tmp = await tempPlugins({
    "plugins/tasks/mod.ts": pluginSource("tasks", { setup: "ctx.services.provide('tasks', { v: 1 });" }),
    "plugins/tracker/mod.ts": pluginSource("tracker", {
      dependencies: { tasks: "^1.0.0" },
      setup: "const t = ctx.services.resolve('tasks'); ctx.services.provide('tracker', () => t.v);",
    }),
  });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  await tmp.write("plugins/tasks/mod.ts", pluginSource("tasks", { setup: "ctx.services.provide('tasks', { v: 2 });" }));
  await host.reload("tasks");
  assert.equal(host.services.resolve<() => number>("tracker")(), 2);
  assert.equal(host.get("tracker")!.reloads, 1);
  await tmp.write("plugins/tasks/mod.ts", pluginSource("tasks", { version: "2.0.0" }));
  await assert.rejects(host.reload("tasks"), /"tracker" needs tasks \^1.0.0, but the new version is 2.0.0/);
  await host.stop();
});

Deno.test("a URL plugin whose nested module changed upstream is refused on reload; :update takes it and re-pins", async () => {
  await using tmp = await tempPlugins({
    "remote/greet/mod.js": `import { word } from "./word.js";
export default { name: "greet", version: "1.0.0", setup(ctx) { ctx.services.provide("greet", word); } };`,
    "remote/greet/word.js": `export const word = "v1";`,
  });
  await using files = serveStatic(join(tmp.dir, "remote"));
  const lockFile = join(tmp.dir, "plugboard.lock");
  const host = quietHost({ pluginsDir: null, allowImport: [files.host], lockFile });
  try {
    await host.load(`${files.base}/greet/mod.js`);
    const lock = JSON.parse(await Deno.readTextFile(lockFile));
    const pins = lock.plugins[`${files.base}/greet/mod.js`].modules;
    assert.deepEqual(Object.keys(pins).sort(), [`${files.base}/greet/mod.js`, `${files.base}/greet/word.js`]);
    assert.equal(await host.reload("greet").then((i) => i.reloads), 1, "an unchanged graph reloads");
    // Only the nested module changes upstream.
    await tmp.write("remote/greet/word.js", `export const word = "v2";`);
    await assert.rejects(host.reload("greet"), (e: Error & { code?: string; changes?: unknown[] }) => {
      assert.equal(e.code, "REMOTE_INTEGRITY_MISMATCH");
      assert.match(e.message, /word\.js/);
      assert.match(e.message, /sha256-/);
      return true;
    });
    assert.equal(host.services.resolve("greet"), "v1", "the pinned version keeps serving");
    const preview = await host.update("greet");
    assert.equal(preview.applied, false);
    assert.deepEqual(preview.changes.map((c) => [c.url, c.kind]), [[`${files.base}/greet/word.js`, "changed"]]);
    assert.equal(host.services.resolve("greet"), "v1", "a preview changes nothing");
    const applied = await host.update("greet", { apply: true });
    assert.equal(applied.applied, true);
    assert.equal(host.services.resolve("greet"), "v2");
    const repinned = JSON.parse(await Deno.readTextFile(lockFile)).plugins[`${files.base}/greet/mod.js`].modules;
    assert.notEqual(repinned[`${files.base}/greet/word.js`], pins[`${files.base}/greet/word.js`]);
  } finally {
    await host.stop();
  }
});

Deno.test("no dropped requests: 50 reloads under a concurrent request loop get only 200s", async () => {
  const src = (v: number) =>
    pluginSource("steady", {
      setup:
        `ctx.routes.get("/v", async (c) => { await new Promise((r) => setTimeout(r, 1)); return c.text("v${v}"); });`,
    });
  await using tmp = await tempPlugins({ "plugins/steady/mod.ts": src(0) });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  const server = serve(host, { port: 0 });
  const url = `http://127.0.0.1:${server.addr.port}/api/plugins/steady/v`;
  let running = true;
  const statuses = new Map<number, number>();
  const versions = new Set<string>();
  const worker = async () => {
    for (let i = 0; running && i < 20_000; i++) {
      const res = await fetch(url);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      versions.add(await res.text());
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  for (let v = 1; v <= 50; v++) {
    await tmp.write("plugins/steady/mod.ts", src(v));
    await host.reload("steady");
  }
  running = false;
  await Promise.all(workers);
  await server.shutdown();
  assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
  assert.ok(statuses.get(200)! > 50, `requests made: ${statuses.get(200)}`);
  assert.ok(versions.size > 1, "requests saw more than one version");
  assert.equal(host.get("steady")!.reloads, 50);
});

Deno.test("watch(): saves reload the plugin; broken saves keep the old one; new and deleted folders load and unload", async () => {
  await using tmp = await tempPlugins(THREE_FILES("w1"));
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  host.watch({ debounceMs: 30 });
  const get = async () => await (await host.fetch(new Request("http://x/api/plugins/layered/"))).text();

  let reloaded = waitFor<PluginLifecycleEvent>(host, "plugin.reloaded");
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "w2";`);
  await reloaded;
  assert.equal(await get(), "word=w2");

  const failed = waitFor<PluginLifecycleEvent>(host, "plugin.reload_failed");
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "unterminated;`);
  assert.match((await failed).error!, /words.ts/);
  assert.equal(await get(), "word=w2");

  reloaded = waitFor<PluginLifecycleEvent>(host, "plugin.reloaded");
  await tmp.write("plugins/layered/config.json", `{}`);
  await tmp.write("plugins/layered/lib/deep/words.ts", `export const WORD = "w3";`);
  await reloaded;
  assert.equal(await get(), "word=w3");

  const loaded = waitFor<PluginLifecycleEvent>(host, "plugin.loaded");
  await tmp.write("plugins/fresh/mod.ts", pluginSource("fresh"));
  assert.equal((await loaded).name, "fresh");

  const unloaded = waitFor<PluginLifecycleEvent>(host, "plugin.unloaded");
  await Deno.remove(join(tmp.dir, "plugins/fresh"), { recursive: true });
  assert.equal((await unloaded).name, "fresh");
  await host.stop();
});

Deno.test("hooks: wrappers compose; removing them in any order restores the chain", () => {
  const hooks = new HookRegistry<{ run: (s: string) => string }>();
  hooks.define("run", (s) => s);
  const offA = hooks.wrap("run", (next) => (s) => `a(${next(s)})`, { owner: "a" });
  const offB = hooks.wrap("run", (next) => (s) => `b(${next(s)})`, { owner: "b" });
  const offC = hooks.wrap("run", (next) => (s) => `c(${next(s)})`, { owner: "c" });
  assert.equal(hooks.call("run", "x"), "c(b(a(x)))");
  offB();
  assert.equal(hooks.call("run", "x"), "c(a(x))");
  offA();
  assert.equal(hooks.call("run", "x"), "c(x)");
  offC();
  assert.equal(hooks.call("run", "x"), "x");
  assert.throws(() => hooks.define("run", (s) => s), { code: "CONFLICT" });
  assert.throws(() => new HookRegistry().call("task.execute", { id: "t" }), { code: "NOT_FOUND" });
});

Deno.test("hooks through plugins: unloading or reloading a wrapper restores the chain", async () => {
  await using tmp = await tempPlugins({
    "plugins/base/mod.ts": pluginSource("base", {
      setup: `ctx.hooks.define("task.execute", async (t) => "ran " + t.id);`,
    }),
    "plugins/timing/mod.ts": pluginSource("timing", {
      dependencies: { base: "*" },
      setup: `ctx.hooks.wrap("task.execute", (next) => async (t) => "timed(" + await next(t) + ")");`,
    }),
    "plugins/tagging/mod.ts": pluginSource("tagging", {
      dependencies: { base: "*" },
      setup: `ctx.hooks.wrap("task.execute", (next) => async (t) => "tagged(" + await next(t) + ")");`,
    }),
  });
  const host = quietHost({ pluginsDir: join(tmp.dir, "plugins") });
  await host.start();
  const run = () => host.hooks.call("task.execute", { id: "t1" });
  assert.equal(await run(), "timed(tagged(ran t1))");
  await host.reload("tagging");
  assert.equal(await run(), "tagged(timed(ran t1))", "a reloaded wrapper goes outermost");
  await host.unload("timing");
  assert.equal(await run(), "tagged(ran t1)");
  await host.unload("tagging");
  assert.equal(await run(), "ran t1");
  await host.stop();
  assert.equal(host.hooks.has("task.execute"), false);
});

Deno.test("a refused new version leaves no snapshot behind, whatever refused it", async () => {
  await using tmp = await tempPlugins({
    "plugins/base/mod.ts": pluginSource("base"),
    "plugins/user/mod.ts": pluginSource("user", { dependencies: { base: "^1.0.0" } }),
  });
  const plugins = join(tmp.dir, "plugins");
  const snapshots = () => [...Deno.readDirSync(plugins)].map((e) => e.name).filter((n) => n.startsWith("."));
  const host = quietHost({ pluginsDir: plugins });
  await host.start();
  await tmp.write("plugins/base/mod.ts", pluginSource("renamed"));
  await assert.rejects(host.reload("base"), /the new version is named "renamed"/);
  await tmp.write("plugins/base/mod.ts", pluginSource("base", { version: "2.0.0" }));
  await assert.rejects(host.reload("base"), /"user" needs base \^1.0.0/);
  await host.unload("user");
  await tmp.write("plugins/user/mod.ts", pluginSource("user", { dependencies: { missing: "*" } }));
  await assert.rejects(host.reload("user"), /depends on "missing"/);
  assert.deepEqual(snapshots(), []);
  await host.stop();
});
