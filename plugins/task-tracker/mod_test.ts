import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";
import type { TaskTrackerService } from "./mod.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("task-tracker: counts completions per agent per day, from events and calls", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, stubs: { tasks: { services: { tasks: {} } } } });
  await t.emit("agent.task.completed", { taskId: "t1", agentId: "a1" });
  await t.emit("agent.task.completed", { taskId: "t2", agentId: "a1" });
  await t.emit("agent.task.completed", { taskId: "t2", agentId: "a1" }); // the same task counts once
  const tracker = t.service<TaskTrackerService>("task-tracker");
  await tracker.trackCompletion("t3", "a2", new Date());
  const today = new Date().toISOString().slice(0, 10);
  const stats = await (await t.request("/stats")).json();
  assert.deepEqual(stats, {
    total: 3,
    byAgent: { a1: { total: 2, byDay: { [today]: 2 } }, a2: { total: 1, byDay: { [today]: 1 } } },
  });
  await t.assertUnloadsClean();
});

Deno.test("task-tracker: statistics cover the retention window; older completions are pruned at start", async () => {
  await using t = await createTestHost({
    plugin: PLUGIN,
    stubs: { tasks: {} },
    config: { "task-tracker": { retention: 2 } },
  });
  const tracker = t.service<TaskTrackerService>("task-tracker");
  await tracker.trackCompletion("old", "a1", new Date(Date.now() - 5 * 86_400_000));
  await tracker.trackCompletion("new", "a1");
  const rows = () => t.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM {{completions}}")!.n;
  // Outside the window at once, though the hourly prune has not run yet.
  assert.equal((await tracker.getStatistics()).total, 1);
  assert.equal(rows(), 2);
  await t.reload();
  assert.equal(rows(), 1, "pruned when the new version starts");
  assert.equal((await tracker.getStatistics()).total, 1, "the same proxy reaches the new version");
});

Deno.test("task-tracker: without the tasks plugin it fails, naming the dependency", async () => {
  await assert.rejects(createTestHost({ plugin: PLUGIN }), /depends on "tasks" \(\^1.0.0\), which is not loaded/);
});
