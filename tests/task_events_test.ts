import assert from "node:assert/strict";
import type { TaskCreatedEvent } from "../plugins/tasks/events.ts";
import { definePlugin, EventBus, HookRegistry } from "../mod.ts";

// The task domain reaches the core's types only through plugins/tasks/events.ts
// (module augmentation); these tests fail `deno check` if the augmentation stops working.

Deno.test("task events are typed on a plugin's ctx.events once plugins/tasks/events.ts is imported", () => {
  const seen: TaskCreatedEvent[] = [];
  const plugin = definePlugin({
    name: "typed",
    version: "1.0.0",
    setup(ctx) {
      ctx.events.on("task.created", (e) => void seen.push(e));
      ctx.events.emit("task.created", { taskId: "t1", title: "typed" });
      // @ts-expect-error a misspelt event name is refused
      ctx.events.emit("task.craeted", { taskId: "t1" });
      // @ts-expect-error a payload without its required field is refused
      ctx.events.emit("task.failed", { taskId: "t1" });
    },
  });
  const bus = new EventBus();
  bus.on("task.created", (e) => void seen.push(e));
  bus.emit("task.created", { taskId: "t2" });
  assert.deepEqual(seen, [{ taskId: "t2" }]);
  assert.equal(typeof plugin.setup, "function");
});

Deno.test("task.execute is typed on the hook registry once plugins/tasks/events.ts is imported", async () => {
  const hooks = new HookRegistry();
  hooks.define("task.execute", (task) => Promise.resolve(`ran ${task.id}`));
  assert.equal(await hooks.call("task.execute", { id: "t1" }), "ran t1");
  // @ts-expect-error task.execute needs a task with an id
  assert.equal(await hooks.call("task.execute", { title: "no id" }), "ran undefined");
});
