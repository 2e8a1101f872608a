import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;

Deno.test("tasks: POST creates and runs a task; GET lists and gets it; events follow the states", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  const created = await t.request("/?wait=true", {
    method: "POST",
    body: JSON.stringify({ title: "Write the report" }),
  });
  assert.equal(created.status, 201);
  const task = await created.json();
  assert.equal(task.status, "completed");
  assert.deepEqual(task.result, { output: "Done: Write the report" });
  assert.deepEqual((await (await t.request(`/${task.id}`)).json()).id, task.id);
  assert.equal((await (await t.request("/")).json()).tasks.length, 1);
  const names = t.events.filter((e) => !e.name.startsWith("plugin.")).map((e) => e.name);
  assert.deepEqual(names, ["task.created", "task.updated", "task.updated", "agent.task.completed"]);
  await t.assertUnloadsClean();
});

Deno.test("tasks: a failing task emits task.failed; bad input is a 400 problem; unknown id is 404", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  const failed =
    await (await t.request("/?wait=true", { method: "POST", body: JSON.stringify({ title: "fail this" }) }))
      .json();
  assert.equal(failed.status, "failed");
  assert.match(failed.error, /Agent could not finish/);
  assert.ok(t.events.some((e) => e.name === "task.failed"));
  const bad = await t.request("/", { method: "POST", body: JSON.stringify({ title: "" }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).detail, /title: title must not be empty/);
  const notJson = await t.request("/", { method: "POST", body: "{" });
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  const missing = await t.request("/nope");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("tasks: tasks persist in storage across a reload", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  await t.service<{ run(i: { title: string }): Promise<unknown> }>("tasks").run({ title: "keep me" });
  await t.reload();
  assert.equal(t.service<{ list(): unknown[] }>("tasks").list().length, 1);
  assert.equal(t.storage.list("task:").length, 1);
});
