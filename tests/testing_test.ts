import type {} from "../plugins/tasks/events.ts";
import assert from "node:assert/strict";
import { createTestHost } from "../testing.ts";
import type { Host, PluginContext, PluginDefinition } from "../mod.ts";

/**
 * A plugin that, when its `/leak` route is called, registers something on the
 * host directly, outside its scope, so unloading it cannot undo it.
 */
function leaky(leak: (host: Host) => void): { plugin: PluginDefinition; ref: { host?: Host } } {
  const ref: { host?: Host } = {};
  const plugin: PluginDefinition = {
    name: "leaky",
    version: "1.0.0",
    setup(ctx: PluginContext) {
      ctx.routes.post("/leak", (c) => {
        leak(ref.host!);
        return c.text("leaked");
      });
    },
  };
  return { plugin, ref };
}

async function assertCatchesLeak(leak: (host: Host) => void, message: RegExp) {
  const { plugin, ref } = leaky(leak);
  await using t = await createTestHost({ plugin });
  ref.host = t.host;
  assert.equal((await t.request("/leak", { method: "POST" })).status, 200);
  await assert.rejects(t.assertUnloadsClean(), (err: Error) => {
    assert.match(err.message, /^Plugin "leaky" did not unload clean: /);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("assertUnloadsClean() fails on a listener added to host.events directly, naming event and owner", async () => {
  await assertCatchesLeak(
    (host) => host.events.on("task.created", () => {}, { owner: "leaky" }),
    /listeners of "task\.created" \(owner "leaky"\): 0 before, 1 after/,
  );
});

Deno.test("assertUnloadsClean() fails on a listener without owner on an event the host already listens to", async () => {
  await assertCatchesLeak(
    (host) => host.events.on("*", () => {}),
    /listeners of "\*" \(any owner\): 1 before, 2 after/,
  );
});

Deno.test("assertUnloadsClean() fails on a service provided on host.services directly", async () => {
  await assertCatchesLeak(
    (host) => host.services.provide("cache", new Map(), { owner: "leaky" }),
    /services: \[\] before, \["cache \(leaky\)"\] after/,
  );
});

Deno.test("assertUnloadsClean() fails on a hook wrapper added to host.hooks directly", async () => {
  await assertCatchesLeak(
    (host) => host.hooks.wrap("task.execute", (next) => next, { owner: "leaky" }),
    /hooks: \[\] before, \[\{"hook":"task\.execute","definedBy":null,"wrappedBy":\["leaky"\]\}\] after/,
  );
});

Deno.test("assertUnloadsClean() fails on a hook defined on host.hooks directly", async () => {
  await assertCatchesLeak(
    (host) => host.hooks.define("task.execute", () => Promise.resolve(), { owner: "leaky" }),
    /"definedBy":"leaky"/,
  );
});

Deno.test("assertUnloadsClean() fails on middleware added with host.routes.addMiddleware", async () => {
  await assertCatchesLeak(
    (host) => host.routes.addMiddleware("leaky", (_c, next) => next()),
    /middleware: \[\] before, \["leaky"\] after/,
  );
});

Deno.test("assertUnloadsClean() fails on a router mounted with host.routes.mount, naming its routes", async () => {
  await assertCatchesLeak(
    (host) => {
      const router = host.routes.createRouter("shadow");
      router.get("/x", (c) => c.text("x"));
      host.routes.mount("shadow", router);
    },
    /routes: \[\] before, \[\{"plugin":"shadow","routes":\["GET \/api\/plugins\/shadow\/x"\]\}\] after/,
  );
});

Deno.test("assertUnloadsClean() passes on a plugin that registers everything through ctx", async () => {
  await using t = await createTestHost({
    plugin: {
      name: "tidy",
      version: "1.0.0",
      setup(ctx: PluginContext) {
        ctx.events.on("task.created", () => {});
        ctx.events.on("task.*", () => {});
        ctx.events.once("plugin.loaded", () => {});
        ctx.services.provide("tidy", { ok: true });
        ctx.routes.get("/", (c) => c.text("ok"));
        ctx.middleware((_c, next) => next());
        ctx.hooks.define("task.execute", (task) => Promise.resolve(task.id));
        ctx.hooks.wrap("task.execute", (next) => next);
        ctx.setInterval(() => {}, 60_000);
      },
    },
  });
  assert.equal(await (await t.request("/")).text(), "ok");
  await t.assertUnloadsClean();
});

Deno.test("assertUnloadsClean() leaves what the stubs and other plugins registered alone", async () => {
  await using t = await createTestHost({
    stubs: { tasks: { hooks: { "task.execute": () => Promise.resolve("stub") } } },
    plugin: {
      name: "wrapper",
      version: "1.0.0",
      dependencies: { tasks: "^1.0.0" },
      setup(ctx: PluginContext) {
        ctx.hooks.wrap("task.execute", (next) => next);
      },
    },
  });
  assert.deepEqual(t.host.hooks.wrappers("task.execute"), ["wrapper"]);
  await t.assertUnloadsClean();
  assert.equal(t.host.hooks.definer("task.execute"), "tasks");
});
