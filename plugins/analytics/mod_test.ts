import type {} from "../tasks/events.ts";
import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("analytics: counts requests by endpoint with status, and task events", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  const h = await t.request("/stats");
  await h.body?.cancel();
  const nf = await t.fetch("/nope");
  await nf.body?.cancel();
  await t.emit("task.created", { taskId: "a" });
  await t.emit("task.failed", { taskId: "a", error: "x" });
  await t.emit("agent.task.completed", { taskId: "b", agentId: "x" });
  const stats = await (await t.request("/stats")).json();
  assert.equal(stats.requests.byEndpoint["GET /api/plugins/analytics/stats"].count, 1);
  assert.deepEqual(stats.requests.byEndpoint["GET /api/plugins/analytics/stats"].statuses, { "200": 1 });
  assert.deepEqual(stats.requests.byEndpoint["GET /nope"].statuses, { "404": 1 });
  assert.deepEqual(stats.events, { "task.created": 1, "task.failed": 1, "agent.task.completed": 1 });
  await t.assertUnloadsClean();
  assert.equal(
    t.storage.get<{ events: Record<string, number> }>("state")?.events["task.created"],
    1,
    "flushed on unload",
  );
});

Deno.test("analytics: figures are handed over on reload", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  await t.emit("task.created", { taskId: "a" });
  await t.reload();
  await t.emit("task.created", { taskId: "b" });
  assert.equal((await (await t.request("/stats")).json()).events["task.created"], 2);
});
