import type {} from "../tasks/events.ts";
import assert from "node:assert/strict";
import { createTestHost } from "../../testing.ts";
import { type AnalyticsState, RequestStats } from "./mod.ts";

const PLUGIN = new URL("./mod.ts", import.meta.url).pathname;
const TASKS = new URL("../tasks/mod.ts", import.meta.url).pathname;

async function get(t: { fetch(path: string): Promise<Response> }, path: string): Promise<number> {
  const res = await t.fetch(path);
  await res.body?.cancel();
  return res.status;
}

/**
 * The plugin's stats once `ready` holds: an isolated plugin gets its response
 * records in batches, at most 50 ms after the responses.
 */
// deno-lint-ignore no-explicit-any
async function statsWhen(t: { request(path: string): Promise<Response> }, ready: (stats: any) => boolean) {
  const end = Date.now() + 5_000;
  for (;;) {
    const stats = await (await t.request("/stats")).json();
    if (ready(stats) || Date.now() > end) return stats;
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("analytics: counts requests by route pattern with status, and task events", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, with: [TASKS] });
  await get(t, "/health");
  await get(t, "/nope");
  await get(t, "/api/plugins/tasks/one");
  await get(t, "/api/plugins/tasks/two");
  await get(t, "/api/plugins");
  await t.emit("task.created", { taskId: "a" });
  await t.emit("task.failed", { taskId: "a", error: "x" });
  await t.emit("agent.task.completed", { taskId: "b", agentId: "x" });
  const stats = await statsWhen(t, (s) => s.requests.byEndpoint["GET /api/plugins/tasks/:id"]?.count >= 2);
  const by = stats.requests.byEndpoint;
  // The host's own endpoints run no plugin code: they are never counted.
  assert.equal(by["GET /health"], undefined);
  assert.deepEqual(by["GET (unmatched)"].statuses, { "404": 1 });
  assert.deepEqual(by["GET /api/plugins/tasks/:id"].statuses, { "404": 2 }, "one series for both ids");
  assert.equal(by["GET /api/plugins"], undefined);
  assert.equal(by["GET /api/plugins/tasks/one"], undefined);
  assert.deepEqual(stats.events, { "task.created": 1, "task.failed": 1, "agent.task.completed": 1 });
  await t.assertUnloadsClean();
  assert.equal(t.storage.get<AnalyticsState>("state")?.events["task.created"], 1, "flushed on unload");
});

Deno.test("analytics: 5,000 random paths keep a bounded number of series and a small state", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, with: [TASKS], config: { analytics: { maxSeries: 50 } } });
  for (let i = 0; i < 5_000; i++) {
    await get(t, `/${crypto.randomUUID()}${i % 2 ? "" : "/x"}`);
    if (i % 100 === 0) await get(t, `/api/plugins/tasks/${crypto.randomUUID()}`);
  }
  const stats = await statsWhen(t, (s) => s.requests.byEndpoint["GET (unmatched)"]?.count >= 5_000);
  // Asking for the stats is a request too: leave those out.
  assert.deepEqual(Object.keys(stats.requests.byEndpoint).filter((k) => !k.endsWith("/analytics/stats")).sort(), [
    "GET (unmatched)",
    "GET /api/plugins/tasks/:id",
  ]);
  assert.equal(stats.requests.byEndpoint["GET (unmatched)"].count, 5_000);
  await t.host.unload("analytics");
  assert.ok(JSON.stringify(t.storage.get("state")).length < 1_000, "the stored state stays small");
});

Deno.test("analytics: beyond maxSeries, new patterns count under (other)", () => {
  const stats = new RequestStats(2);
  stats.record("GET", "/a", 200, 1);
  stats.record("GET", "/b", 200, 1);
  stats.record("GET", "/c", 200, 1);
  stats.record("POST", "/d", 500, 3);
  stats.record("GET", "/a", 200, 1);
  assert.equal(stats.size, 2);
  assert.deepEqual(Object.keys(stats.toJSON()).sort(), ["* (other)", "GET /a", "GET /b"]);
  assert.deepEqual(stats.toJSON()["* (other)"], { count: 2, totalMs: 4, maxMs: 3, statuses: { 200: 1, 500: 1 } });
});

Deno.test("analytics: a stored state with raw-path keys is folded into the bound on start", async () => {
  const requests: AnalyticsState["requests"] = {};
  for (let i = 0; i < 1_000; i++) requests[`GET /raw/${i}`] = { count: 1, totalMs: 1, maxMs: 1, statuses: { 200: 1 } };
  await using t = await createTestHost({ plugin: PLUGIN, config: { analytics: { maxSeries: 10 } } });
  await t.host.unload("analytics");
  t.storage.set("state", { requests, events: { "task.created": 3 } });
  await t.host.load(PLUGIN);
  const stats = await (await t.request("/stats")).json();
  assert.equal(stats.requests.series, 10);
  assert.equal(stats.requests.byEndpoint["* (other)"].count, 990);
  assert.equal(stats.requests.total, 1_000);
  assert.equal(stats.events["task.created"], 3);
});

Deno.test("analytics: figures are handed over on reload, and flushed every flushEveryMs", async () => {
  await using t = await createTestHost({ plugin: PLUGIN, config: { analytics: { flushEveryMs: 100 } } });
  await t.emit("task.created", { taskId: "a" });
  await t.reload();
  await t.emit("task.created", { taskId: "b" });
  assert.equal((await (await t.request("/stats")).json()).events["task.created"], 2);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(t.storage.get<AnalyticsState>("state")?.events["task.created"], 2, "written without an unload");
});
