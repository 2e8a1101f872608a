import assert from "node:assert/strict";
import { join } from "node:path";
import { openPluginStorage } from "../../mod.ts";
import { createTestHost } from "../../testing.ts";
import { INTERRUPTED } from "./mod.ts";
import type { Task } from "./task_model.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("tasks: POST creates and runs a task; GET lists and gets it; events follow the states", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  const created = await t.request("/?wait=true", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "Write the report" }),
  });
  assert.equal(created.status, 201);
  const task = await created.json();
  assert.equal(task.status, "completed");
  assert.match(task.id, UUID);
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
  const bad = await t.request("/", { method: "POST", body: JSON.stringify({ title: "", data: 3 }) });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get("content-type"), "application/problem+json");
  assert.match(
    (await bad.json()).detail,
    /^title: title must not be empty; data: .+\. Send JSON such as \{"title": "Summarise the report"\}$/,
  );
  const missing = await t.request("/nope");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  assert.equal(t.storage.list("task:").length, 1, "nothing stored for bad input");
});

Deno.test("tasks: the body is JSON whatever content type curl or fetch sends; malformed is 400; multipart is 415", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  for (const headers of [{ "content-type": "application/json" }, {} as Record<string, string>]) {
    const res = await t.request("/", { method: "POST", headers, body: '{"title": "x"' });
    assert.equal(res.status, 400, JSON.stringify(headers));
    assert.match(await res.text(), /Malformed JSON/);
  }
  const curl = await t.request("/", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" }, // what `curl -d '{...}'` sends
    body: JSON.stringify({ title: "from curl" }),
  });
  assert.equal(curl.status, 201);
  await curl.body?.cancel();
  const form = await t.request("/", { method: "POST", body: new URLSearchParams({ title: "x" }) });
  assert.equal(form.status, 400);
  assert.match(await form.text(), /Malformed JSON/);
  const multipart = new FormData();
  multipart.set("title", "x");
  const upload = await t.request("/", { method: "POST", body: multipart });
  assert.equal(upload.status, 415);
  assert.match(
    (await upload.json()).detail,
    /Send the task as JSON \(Content-Type: application\/json\), not multipart\/form-data/,
  );
  assert.deepEqual(t.storage.list("task:").map((e) => (e.value as Task).title), ["from curl"]);
});

Deno.test("tasks: ids never collide, and tasks are inserted without overwriting", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  const service = t.service<{ create(i: { title: string }): Task }>("tasks");
  const created = await Promise.all(Array.from({ length: 300 }, (_, i) => service.create({ title: `t${i}` })));
  const ids = new Set(created.map((task) => task.id));
  assert.equal(ids.size, 300);
  const task = await service.create({ title: "again" });
  assert.throws(() => t.storage.add(`task:${task.id}`, { forged: true }), { code: "CONFLICT" });
});

Deno.test("tasks: tasks persist in storage across a reload", async () => {
  await using t = await createTestHost({ plugin: PLUGIN });
  await t.service<{ run(i: { title: string }): Promise<unknown> }>("tasks").run({ title: "keep me" });
  await t.reload();
  assert.equal((await t.service<{ list(): unknown[] }>("tasks").list()).length, 1);
  assert.equal(t.storage.list("task:").length, 1);
});

Deno.test("tasks: after a crash, tasks left pending or running are marked failed 'interrupted' on start", async () => {
  await using tmp = await Deno.makeTempDir().then((dir) => ({
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }));
  const now = new Date().toISOString();
  const task = (id: string, status: Task["status"], runner?: string): Task => ({
    id,
    title: id,
    agentId: "agent-1",
    data: {},
    status,
    runner,
    createdAt: now,
    updatedAt: now,
  });
  {
    // What a process killed with -9 leaves behind, written directly.
    using crashed = openPluginStorage({ name: "tasks", dir: join(tmp.dir, "plugins", "tasks") });
    crashed.kv.set("task:running", task("running", "running", "dead-runner"));
    crashed.kv.set("task:pending", task("pending", "pending"));
    crashed.kv.set("task:done", task("done", "completed", "dead-runner"));
    crashed.kv.set("task:live", task("live", "running", "live-runner"));
    crashed.kv.set("runner:dead-runner", { at: Date.now() - 60_000 });
    crashed.kv.set("runner:live-runner", { at: Date.now() }); // another process, still running
  }
  await using t = await createTestHost({
    plugin: PLUGIN,
    storagePath: join(tmp.dir, "plugboard.db"),
    config: { tasks: { leaseMs: 300 } },
  });
  const status = (id: string) => t.storage.get<Task>(`task:${id}`);
  assert.deepEqual([status("running")?.status, status("running")?.error], ["failed", INTERRUPTED]);
  assert.deepEqual([status("pending")?.status, status("pending")?.error], ["failed", INTERRUPTED]);
  assert.equal(status("done")?.status, "completed");
  assert.equal(status("live")?.status, "running", "a live process's task is left alone");
  const failedEvents = t.events.filter((e) => e.name === "task.failed").map((e) => e.payload);
  assert.deepEqual(failedEvents, [
    { taskId: "pending", error: INTERRUPTED, agentId: "agent-1" },
    { taskId: "running", error: INTERRUPTED, agentId: "agent-1" },
  ]);
  assert.ok(t.logs.some((r) => /Marked 2 unfinished task\(s\) of stopped processes/.test(r.message)));
  // The live process stops renewing its lease: the periodic sweep marks its task too.
  const deadline = Date.now() + 3_000;
  while (status("live")?.status === "running" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual([status("live")?.status, status("live")?.error], ["failed", INTERRUPTED]);
});

for (const isolation of ["worker", "none"] as const) {
  Deno.test(`tasks: a ?wait=true request is answered when a reload cuts its task short (isolation: ${isolation})`, async () => {
    await using t = await createTestHost({ plugin: PLUGIN, isolation, config: { tasks: { workMs: 2_000 } } });
    const started = performance.now();
    const waiting = t.fetch("/api/plugins/tasks/?wait=true", {
      method: "POST",
      body: JSON.stringify({ title: "long one" }),
    });
    await new Promise((r) => setTimeout(r, 200));
    const reloaded = t.reload();
    const res = await waiting;
    const task: Task = await res.json();
    await reloaded;
    assert.equal(res.status, 201);
    if (isolation === "none") {
      // In-process the version ends at once: the task is cut short and the request told so, not left to its deadline.
      assert.deepEqual([task.status, task.error], ["failed", INTERRUPTED]);
      assert.ok(performance.now() - started < 2_000, "answered before the work would have ended");
    } else {
      // In a worker the reload first lets requests in flight finish: the task completes.
      assert.equal(task.status, "completed");
    }
  });
}

Deno.test("tasks: failWord matches whatever its case", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, config: { tasks: { workMs: 1, failWord: "Boom" } } });
  const run = t.service<{ run(i: { title: string }): Promise<Task> }>("tasks").run;
  assert.equal((await run({ title: "it goes BOOM" })).status, "failed");
  assert.equal((await run({ title: "all quiet" })).status, "completed");
});

Deno.test("tasks: unloading mid-task marks the task interrupted instead of leaving it running", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, config: { tasks: { workMs: 30_000 } } });
  const task = await t.service<{ create(i: { title: string }): Task }>("tasks").create({ title: "long" });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(t.storage.get<Task>(`task:${task.id}`)?.status, "running");
  await t.host.unload("tasks");
  assert.deepEqual(t.storage.get<Task>(`task:${task.id}`)?.error, INTERRUPTED);
  assert.ok(t.events.some((e) => e.name === "task.failed" && (e.payload as { taskId: string }).taskId === task.id));
  assert.deepEqual(t.storage.list("runner:"), [], "the lease is released");
});
