import type {} from "../plugins/tasks/events.ts";
import assert from "node:assert/strict";
import type { PluginContext } from "../mod.ts";
import { quietHost, timerTurns, waitFor } from "./_helpers.ts";

/** Loads an inline plugin and returns its context. */
async function withContext(options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost({ pluginsDir: null, ...options });
  let ctx!: PluginContext;
  await host.load({
    name: "probe",
    version: "1.0.0",
    setup(c: PluginContext) {
      ctx = c;
    },
  });
  return { host, ctx };
}

Deno.test("ctx.events: once, off and the returned unsubscribe are scoped to the plugin", async () => {
  const { host, ctx } = await withContext();
  const seen: string[] = [];
  ctx.events.once("task.created", (p) => void seen.push(`once:${p.taskId}`));
  const handler = (p: { taskId: string }) => void seen.push(`on:${p.taskId}`);
  ctx.events.on("task.created", handler);
  const offWild = ctx.events.on("task.*", (_p, name) => void seen.push(`wild:${name}`));
  host.events.emit("task.created", { taskId: "a" });
  offWild();
  assert.equal(ctx.events.off("task.created", handler), true);
  host.events.emit("task.created", { taskId: "b" });
  assert.deepEqual(seen, ["once:a", "on:a", "wild:task.created"]);
  assert.equal(host.events.listenerCount(undefined, "probe"), 0);
  const r = await ctx.events.emitAsync("task.created", { taskId: "c" });
  assert.deepEqual(r, { called: 0, failed: 0 });
});

Deno.test("ctx.services: factory, tryResolve, has; a missing service names the plugin", async () => {
  const { host, ctx } = await withContext();
  let built = 0;
  ctx.services.factory("lazy", () => ({ n: ++built }));
  assert.equal(built, 0);
  assert.deepEqual(host.services.resolve("lazy"), { n: 1 });
  assert.deepEqual(ctx.services.resolve("lazy"), { n: 1 });
  assert.equal(ctx.services.tryResolve("nope"), undefined);
  assert.equal(ctx.services.has("lazy"), true);
  assert.throws(() => ctx.services.resolve("nope"), /Cannot resolve service "nope" for plugin "probe"/);
  await host.unload("probe");
  assert.equal(host.services.has("lazy"), false);
});

Deno.test("ctx timers: clearTimer stops one; unload clears the rest; bad callbacks are TypeErrors", async () => {
  const { host, ctx } = await withContext();
  const ticks: string[] = [];
  const a = ctx.setInterval(() => void ticks.push("a"), 1);
  ctx.setInterval(() => void ticks.push("b"), 1);
  ctx.clearTimer(a);
  await waitFor(() => ticks.filter((t) => t === "b").length >= 3, { what: "three ticks of the other interval" });
  assert.ok(!ticks.includes("a"), "the cleared interval never ran");
  assert.ok(ticks.filter((t) => t === "b").length >= 3, "the other kept running");
  assert.throws(() => ctx.setTimeout("x" as never, 1), /callback must be a function, got string/);
  await host.unload("probe");
  const count = ticks.length;
  await timerTurns(5);
  assert.equal(ticks.length, count);
});

Deno.test("after unload, a leftover callback cannot register anything", async () => {
  const { host, ctx } = await withContext();
  await host.unload("probe");
  assert.equal(ctx.signal.aborted, true);
  assert.throws(
    () => ctx.events.on("task.created", () => {}),
    /Cannot register anything for plugin "probe": it has been unloaded/,
  );
  assert.throws(() => ctx.services.provide("late", 1), /it has been unloaded/);
  assert.throws(() => ctx.setTimeout(() => {}, 1), /Cannot set a timer in plugin "probe": it has been unloaded/);
  assert.equal(host.events.listenerCount(), 0);
});

Deno.test("inline plugins: config from the host option, validated; reload re-runs setup", async () => {
  const host = quietHost({ pluginsDir: null, config: { inline: { n: "x" } } });
  const { z } = await import("zod");
  await assert.rejects(
    host.load({ name: "inline", version: "1.0.0", config: z.object({ n: z.number() }), setup() {} }),
    /config field "n" is invalid .*current value is "x"/,
  );
  let runs = 0;
  const ok = quietHost({ pluginsDir: null, config: { counted: { n: 2 } } });
  await ok.load({
    name: "counted",
    version: "1.0.0",
    config: z.object({ n: z.number() }),
    setup(ctx: PluginContext<{ n: number }>) {
      runs += ctx.config.n;
    },
  });
  await ok.reload("counted");
  assert.equal(runs, 4);
  assert.equal(ok.get("counted")!.source, "inline:counted");
});
