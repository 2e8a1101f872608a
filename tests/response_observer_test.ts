/**
 * `ctx.onResponse`: told about every request to a plugin route once it is
 * answered, in-process and from a worker, without running in the request's
 * path; its failures are the plugin's, and it is gone after unload.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ResponseRecord, SystemErrorEvent } from "../mod.ts";
import { folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";

/** A plugin that keeps what it observes, served back at `/seen` (the `/seen` requests themselves left out). */
const WATCHER = pluginSource("watcher", {
  extra: `permissions: { hostWide: ["responses"] },`,
  setup: `
    const seen = [];
    ctx.onResponse((r) => { if (!r.path.endsWith("/seen")) seen.push(r); });
    ctx.routes.get("/seen", (c) => c.json(seen));
    ctx.onDispose(() => ctx.storage.set("seen-at-unload", seen.length));`,
});

/** A plugin with a sync route, an async one, one that never answers and one that throws. */
const SERVED = pluginSource("served", {
  setup: `
    ctx.routes.get("/items/:id", (c) => c.text("item " + c.req.param("id")));
    ctx.routes.post("/slow", async (c) => { await new Promise((r) => setTimeout(r, 5)); return c.json(await c.req.json(), 201); });
    ctx.routes.get("/never", () => new Promise(() => {}));
    ctx.routes.get("/boom", () => { throw new Error("boom"); });`,
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`onResponse (${isolation}): method, path, route pattern, status and duration of every plugin request`, async () => {
    await using tmp = await tempPlugins({ "plugins/watcher/mod.ts": WATCHER, "plugins/served/mod.ts": SERVED });
    const host = folderHost(tmp.dir, { isolation, limits: { served: { routeTimeout: 100 } } });
    try {
      await host.start();
      assert.deepEqual(host.list().map((p) => p.state), ["active", "active"]);
      const call = async (path: string, init?: RequestInit) => {
        const res = await host.fetch(new Request(`http://127.0.0.1${path}`, init), LOOPBACK);
        await res.body?.cancel();
        return res.status;
      };
      assert.equal(await call("/api/plugins/served/items/7"), 200);
      assert.equal(await call("/api/plugins/served/slow", { method: "POST", body: '{"a":1}' }), 201);
      assert.equal(await call("/api/plugins/served/never"), 504);
      assert.equal(await call("/api/plugins/served/boom"), 500);
      assert.equal(await call("/api/plugins/served/missing"), 404);
      // The host's own endpoints run no plugin code, observers included.
      assert.equal(await call("/health"), 200);
      assert.equal(await call("/api/plugins", { headers: { "x-api-key": host.adminKey } }), 200);
      let seen: ResponseRecord[] = [];
      await waitFor(async () => {
        seen = await (await host.fetch(new Request("http://127.0.0.1/api/plugins/watcher/seen"), LOOPBACK)).json();
        return seen.length >= 5;
      }, { what: "five observed requests" });
      assert.deepEqual(
        seen.map((r) => [r.method, r.path, r.route, r.status]),
        [
          ["GET", "/api/plugins/served/items/7", "/api/plugins/served/items/:id", 200],
          ["POST", "/api/plugins/served/slow", "/api/plugins/served/slow", 201],
          ["GET", "/api/plugins/served/never", "/api/plugins/served/never", 504],
          ["GET", "/api/plugins/served/boom", "/api/plugins/served/boom", 500],
          ["GET", "/api/plugins/served/missing", undefined, 404],
        ],
      );
      assert.ok(seen[1].ms >= 4, `the async route took at least its 5 ms timer, observed ${seen[1].ms} ms`);
      assert.ok(seen[2].ms >= 90, `the route that never answered was observed at its deadline, ${seen[2].ms} ms`);
      assert.ok(seen.every((r) => Number.isInteger(r.ms) && r.ms >= 0), "durations are whole milliseconds");
      // The operator can see who watches the traffic.
      assert.deepEqual(host.get("watcher")!.hostWide, { middleware: 0, responseObservers: 1 });
      assert.equal(host.get("served")!.hostWide, undefined);
      await host.unload("watcher");
      assert.deepEqual(host.routes.observers, [], "the observer is removed on unload");
    } finally {
      await host.stop();
    }
  });
}

Deno.test("onResponse (worker): records still waiting on the host reach the worker before its onDispose runs", async () => {
  await using tmp = await tempPlugins({ "plugins/watcher/mod.ts": WATCHER, "plugins/served/mod.ts": SERVED });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  try {
    await host.start();
    for (let i = 0; i < 40; i++) {
      await (await host.fetch(new Request(`http://127.0.0.1/api/plugins/served/items/${i}`), LOOPBACK)).text();
    }
    // No wait: the unload sends what the host still holds before the worker's onDispose runs.
    await host.unload("watcher");
  } finally {
    await host.stop();
  }
  const db = new DatabaseSync(join(tmp.dir, "data", "plugins", "watcher", "storage.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT value FROM plugboard_kv WHERE key = ?").get("seen-at-unload") as
      | { value: string }
      | undefined;
    assert.equal(row && JSON.parse(row.value), 40);
  } finally {
    db.close();
  }
});

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`onResponse (${isolation}): a throwing observer is reported against its plugin; others are unaffected`, async () => {
    await using tmp = await tempPlugins({
      "plugins/thrower/mod.ts": pluginSource("thrower", {
        extra: `permissions: { hostWide: ["responses"] },`,
        setup: `ctx.onResponse(() => { throw new Error("observer broke"); });`,
      }),
      "plugins/watcher/mod.ts": WATCHER,
      "plugins/served/mod.ts": SERVED,
    });
    const host = folderHost(tmp.dir, { isolation });
    const errors: SystemErrorEvent[] = [];
    host.events.on("system.error", (e) => void errors.push(e));
    try {
      await host.start();
      const res = await host.fetch(new Request("http://127.0.0.1/api/plugins/served/items/1"), LOOPBACK);
      assert.equal(await res.text(), "item 1");
      await waitFor(() => errors.length > 0, { what: "the observer's failure reported" });
      assert.deepEqual([errors[0].origin, errors[0].plugin], ["observer", "thrower"]);
      assert.match(errors[0].message, /observer broke/);
      let seen: ResponseRecord[] = [];
      await waitFor(async () => {
        seen = await (await host.fetch(new Request("http://127.0.0.1/api/plugins/watcher/seen"), LOOPBACK)).json();
        return seen.length > 0;
      }, { what: "the other observer told" });
      assert.equal(seen[0].path, "/api/plugins/served/items/1");
      assert.equal(host.get("thrower")?.state, "active");
    } finally {
      await host.stop();
    }
  });
}
