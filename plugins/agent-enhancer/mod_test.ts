import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("agent-enhancer: wraps task.execute, and unloading restores the original", async () => {
  await using t = await createTestHost({
    plugin: PLUGIN,
    stubs: {
      tasks: { hooks: { "task.execute": (task: { title: string }) => Promise.resolve({ output: task.title }) } },
    },
  });
  const result = await t.host.hooks.call("task.execute", { id: "t1", title: "  tidy  " }) as Record<string, unknown>;
  assert.equal(result.output, "tidy");
  assert.equal(result.enhancedBy, "agent-enhancer");
  assert.equal(typeof result.durationMs, "number");
  await t.assertUnloadsClean();
  assert.deepEqual(await t.host.hooks.call("task.execute", { id: "t2", title: " raw " }), { output: " raw " });
});

Deno.test("agent-enhancer: failures pass through unchanged", async () => {
  await using t = await createTestHost({
    plugin: PLUGIN,
    stubs: { tasks: { hooks: { "task.execute": () => Promise.reject(new Error("agent down")) } } },
  });
  await assert.rejects(t.host.hooks.call("task.execute", { id: "t1", title: "x" }), /agent down/);
});
