import type {} from "../tasks/events.ts";
import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("hello: greets with the configured greeting and counts created tasks", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, config: { hello: { greeting: "Hi" } } });
  assert.equal(await (await t.request("/greet/ada")).text(), "Hi, ada!");
  await t.emit("task.created", { taskId: "t1" });
  assert.deepEqual(await (await t.request("/")).json(), { greeting: "Hi", tasksSeen: 1 });
  assert.equal(await t.service<{ greet(w: string): string }>("hello").greet("bob"), "Hi, bob!");
  await t.assertUnloadsClean();
});
