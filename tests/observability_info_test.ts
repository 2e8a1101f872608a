/**
 * Every registration visible in the admin API's plugin info (listeners,
 * services, routes, hooks, middleware, storage on disk), crash causes and
 * the last error with its file and line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { folderHost, LOOPBACK, pluginSource, SPIN, tempPlugins } from "./_helpers.ts";

const KEY = "observability-test-key-0123456789";

const BUSY = pluginSource("busy", {
  extra: `permissions: { hostWide: ["middleware", "responses"] },`,
  setup: `
    ctx.events.on("task.created", () => {});
    ctx.events.on("task.*", () => {});
    ctx.events.on("task.created", () => {});
    ctx.services.provide("busy", { ping: () => "pong" });
    ctx.routes.get("/items/:id", (c) => c.text("item"));
    ctx.routes.post("/boom", () => { throw new Error("route blew up"); });
    ctx.hooks.define("busy.step", (x) => x);
    ctx.hooks.wrap("task.execute", (next) => (t) => next(t));
    ctx.middleware(async (_c, next) => { await next(); });
    ctx.onResponse(() => {});
    ctx.storage.set("k", "v".repeat(100));
    ctx.setInterval(() => {}, 60_000);
    ctx.setTimeout(() => {}, 60_000);
    ctx.setTimeout(() => {}, 0);`,
});

/** A plugin's info once it tells its timers (an isolated plugin's worker tells them at its next heartbeat). */
async function infoWithTimers(host: ReturnType<typeof folderHost>, name: string) {
  for (let waited = 0;; waited += 50) {
    const info = await host.observability.describe(host.get(name)!);
    if (info.timers !== undefined || waited > 10_000) return info;
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`plugin info (${isolation}): listeners, services, routes, hooks, middleware and storage are listed`, async () => {
    await using tmp = await tempPlugins({ "plugins/busy/mod.ts": BUSY });
    const host = folderHost(tmp.dir, { isolation, apiKey: KEY });
    try {
      await host.start();
      const res = await host.fetch(
        new Request("http://127.0.0.1/api/plugins/busy", { headers: { "x-api-key": KEY } }),
        LOOPBACK,
      );
      assert.equal(res.status, 200);
      const info = await res.json();
      assert.equal(info.state, "active", JSON.stringify(info));
      assert.deepEqual(info.listeners, ["task.created", "task.*"]);
      assert.deepEqual(info.services, ["busy"]);
      assert.deepEqual(info.routes, ["GET /api/plugins/busy/items/:id", "POST /api/plugins/busy/boom"]);
      assert.deepEqual(info.hooks, { defines: ["busy.step"], wraps: ["task.execute"] });
      assert.equal(info.middleware, 1);
      assert.equal(info.responseObservers, 1);
      assert.ok(info.storageBytes > 0, `storage on disk: ${info.storageBytes}`);
      assert.deepEqual(info.restartCauses, {});
      assert.equal(info.lastError, undefined);
      // Its two long timers (the zero-delay one has fired by the time the heartbeat tells).
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await infoWithTimers(host, "busy")).timers, 2);
      // The list shows the same fields.
      const list = await (await host.fetch(
        new Request("http://127.0.0.1/api/plugins", { headers: { "x-api-key": KEY } }),
        LOOPBACK,
      )).json();
      assert.deepEqual(list.plugins[0].listeners, ["task.created", "task.*"]);
      await host.unload("busy");
      const gone = await host.observability.describe(host.get("busy")!);
      assert.deepEqual(gone.listeners, [], "an unloaded plugin listens to nothing");
      assert.equal(gone.timers, undefined);
      assert.deepEqual(gone.hooks, { defines: [], wraps: [] });
    } finally {
      await host.stop();
    }
  });
}

Deno.test("plugin info: an isolated plugin's timers include those set on the global, until cleared", async () => {
  const timers = pluginSource("timers", {
    setup: `
      const a = setTimeout(() => {}, 60_000);
      const b = setInterval(() => {}, 60_000);
      setTimeout(() => {}, 60_000);
      ctx.routes.post("/clear", (c) => { clearTimeout(a); clearInterval(b); return c.text("ok"); });`,
  });
  await using tmp = await tempPlugins({ "plugins/timers/mod.ts": timers });
  const host = folderHost(tmp.dir, { isolation: "worker", hangTimeout: 400 });
  try {
    await host.start();
    assert.equal((await infoWithTimers(host, "timers")).timers, 3);
    const res = await host.fetch(
      new Request("http://127.0.0.1/api/plugins/timers/clear", { method: "POST" }),
      LOOPBACK,
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // Told at the next heartbeat (every 100 ms with this hang timeout).
    let info = await host.observability.describe(host.get("timers")!);
    for (let waited = 0; info.timers !== 1 && waited < 5_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      info = await host.observability.describe(host.get("timers")!);
    }
    assert.equal(info.timers, 1);
  } finally {
    await host.stop();
  }
});

Deno.test("an isolated plugin's timers behave as in-process: this, promisify, extra arguments, clearing by number", async () => {
  const timers = `import { promisify } from "node:util";
export default { name: "timely", version: "1.0.0", async setup(ctx) {
  const seen = {};
  await promisify(setTimeout)(2);
  seen.promisified = true;
  seen.thisIsTimer = await new Promise((resolve) =>
    setTimeout(function () { resolve(typeof this?.refresh === "function"); }, 1));
  seen.args = await new Promise((resolve) => setTimeout((a, b) => resolve([a, b]), 1, "x", 2));
  const t = setTimeout(() => { seen.fired = true; }, 20);
  clearTimeout(Number(t));
  seen.name = setTimeout.name;
  ctx.routes.get("/seen", (c) => c.json(seen));
} };
`;
  await using tmp = await tempPlugins({ "plugins/timely/mod.ts": timers });
  const host = folderHost(tmp.dir, { isolation: "worker", hangTimeout: 400 });
  try {
    await host.start();
    assert.equal(host.get("timely")?.state, "active", host.get("timely")?.error);
    await new Promise((r) => setTimeout(r, 60));
    const res = await host.fetch(new Request("http://127.0.0.1/api/plugins/timely/seen"), LOOPBACK);
    assert.deepEqual(await res.json(), {
      promisified: true,
      thisIsTimer: true,
      args: ["x", 2],
      name: "setTimeout",
    });
    // The timeout cleared by its number is not counted.
    assert.equal((await infoWithTimers(host, "timely")).timers, 0);
  } finally {
    await host.stop();
  }
});

Deno.test("plugin info: a route failure is the last error, with the plugin's file and line", async () => {
  await using tmp = await tempPlugins({ "plugins/busy/mod.ts": BUSY });
  const host = folderHost(tmp.dir, { apiKey: KEY });
  try {
    await host.start();
    const res = await host.fetch(new Request("http://127.0.0.1/api/plugins/busy/boom", { method: "POST" }), LOOPBACK);
    assert.equal(res.status, 500);
    await res.body?.cancel();
    const info = await host.observability.describe(host.get("busy")!);
    assert.equal(info.lastError?.origin, "route");
    assert.equal(info.lastError?.message, "route blew up");
    assert.equal(info.lastError?.location?.file, join(tmp.dir, "plugins", "busy", "mod.ts"));
    const line = BUSY.split("\n").findIndex((l) => l.includes("route blew up")) + 1;
    assert.equal(info.lastError?.location?.line, line);
    assert.match(info.lastError?.stack ?? "", /route blew up/);
  } finally {
    await host.stop();
  }
});

Deno.test("plugin info: a worker's crash is counted by cause (hang)", async () => {
  const hang = pluginSource("hang", {
    setup: `ctx.routes.get("/spin", () => { ${SPIN}; return new Response("done"); });`,
  });
  await using tmp = await tempPlugins({ "plugins/hang/mod.ts": hang });
  const host = folderHost(tmp.dir, { isolation: "worker", hangTimeout: 300 });
  try {
    await host.start();
    await tmp.write("plugins/hang/spinning", "");
    const res = await host.fetch(new Request("http://127.0.0.1/api/plugins/hang/spin"), LOOPBACK);
    assert.equal(res.status, 503);
    await res.body?.cancel();
    const info = await host.observability.describe(host.get("hang")!);
    assert.deepEqual(info.restartCauses, { hang: 1 });
    assert.equal(info.lastError?.origin, "worker");
    // A hang is plugboard's finding, not a line of the plugin's: no location rather than one in plugboard's code.
    assert.equal(info.lastError?.location, undefined, JSON.stringify(info.lastError?.location));
    const text = await host.observability.metrics!.text();
    assert.match(text, /plugboard_restarts_total\{plugin="hang",cause="hang"\} 1/);
  } finally {
    await host.stop();
  }
});
