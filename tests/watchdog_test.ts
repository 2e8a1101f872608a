/**
 * The watchdog of isolated plugins judges progress, not promptness: a worker
 * that is busy or has requests queued keeps its plugin active; a task that
 * never yields is ended within the plugin's `hangTimeout`; an operator's
 * reload or load gives a crash-looped plugin its full allowance of crashes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { SystemErrorEvent } from "../mod.ts";
import { hostSettingsSchema, resolveHostOptions } from "../src/options.ts";
import { Watchdog } from "../src/runtime/watchdog.ts";
import { LOOPBACK, pluginSource, quietHost, SPIN, tempPlugins, waitFor } from "./_helpers.ts";

/**
 * A host in the default mode (isolated workers) with the default watchdog
 * budget unless `options` sets one.
 */
async function isolatedHost(dir: string, options: Parameters<typeof quietHost>[0] = {}) {
  const host = quietHost({
    isolation: "worker",
    pluginsDir: join(dir, "plugins"),
    dataDir: join(dir, "data"),
    setupTimeout: 20_000,
    ...options,
  });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void errors.push(e));
  await host.start();
  const call = (path: string) => Promise.resolve(host.fetch(new Request(`http://127.0.0.1${path}`), LOOPBACK));
  return Object.assign(host, { errors, call, [Symbol.asyncDispose]: () => host.stop() });
}

/** A route body that keeps its worker's thread busy for `ms`, without yielding. */
const busyFor = (ms: number) => `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;

Deno.test("a route doing 2 s of synchronous work is busy, not hung: the plugin stays active, never restarted", async () => {
  await using tmp = await tempPlugins({
    "plugins/crunch/mod.ts": pluginSource("crunch", {
      setup: `ctx.routes.get("/crunch", (c) => { ${busyFor(2000)}; return c.text("crunched"); });`,
    }),
  });
  await using host = await isolatedHost(tmp.dir);
  const res = await host.call("/api/plugins/crunch/crunch");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "crunched");
  const again = await host.call("/api/plugins/crunch/crunch");
  assert.equal(await again.text(), "crunched");
  assert.equal(host.get("crunch")?.state, "active");
  assert.equal(host.get("crunch")?.restarts, 0);
  assert.deepEqual(host.errors.filter((e) => e.origin === "worker"), []);
});

Deno.test("32 clients queued on a 100 ms route: every request is answered, the plugin is never restarted", async () => {
  await using tmp = await tempPlugins({
    "plugins/queue/mod.ts": pluginSource("queue", {
      setup: `let n = 0; ctx.routes.get("/work", (c) => { ${busyFor(100)}; return c.text(String(++n)); });`,
    }),
  });
  await using host = await isolatedHost(tmp.dir);
  const answers = await Promise.all(Array.from({ length: 32 }, async () => {
    const res = await host.call("/api/plugins/queue/work");
    return { status: res.status, body: await res.text() };
  }));
  assert.deepEqual(answers.map((a) => a.status), Array(32).fill(200));
  // One worker served them all, one after another.
  assert.deepEqual(
    answers.map((a) => Number(a.body)).sort((a, b) => a - b),
    Array.from({ length: 32 }, (_, i) => i + 1),
  );
  assert.equal(host.get("queue")?.state, "active");
  assert.equal(host.get("queue")?.restarts, 0);
});

Deno.test("replies are progress: requests queued for 3 s never trip a 1.5 s budget, though each heartbeat waits behind them", async () => {
  await using tmp = await tempPlugins({
    "plugins/queue/mod.ts": pluginSource("queue", {
      setup: `let n = 0; ctx.routes.get("/work", (c) => { ${busyFor(100)}; return c.text(String(++n)); });`,
    }),
  });
  await using host = await isolatedHost(tmp.dir, { limits: { queue: { hangTimeout: 1500 } } });
  const answers: Promise<number>[] = [];
  for (let i = 0; i < 32; i++) {
    answers.push(host.call("/api/plugins/queue/work").then(async (res) => (await res.body?.cancel(), res.status)));
    // Each request in a message of its own: the worker answers each as it finishes it.
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(await Promise.all(answers), Array(32).fill(200));
  assert.equal(host.get("queue")?.state, "active");
  assert.equal(host.get("queue")?.restarts, 0);
});

Deno.test("a task that never yields is ended within the plugin's hangTimeout (limits.<name>), then restarted", async () => {
  await using tmp = await tempPlugins({
    "plugins/stuck/mod.ts": pluginSource("stuck", {
      setup: `ctx.routes.get("/spin", () => { ${SPIN} }); ctx.routes.get("/ok", (c) => c.text("ok"));`,
    }),
    "plugins/stuck/spinning": "",
  });
  // The host-wide budget would take a minute: the plugin's own is what ends it.
  await using host = await isolatedHost(tmp.dir, { hangTimeout: 60_000, limits: { stuck: { hangTimeout: 1000 } } });
  const res = await host.call("/api/plugins/stuck/spin");
  assert.equal(res.status, 503, "its request in flight is answered 503");
  await res.body?.cancel();
  await waitFor(() => host.get("stuck")?.restarts === 1, { what: "the restart", timeoutMs: 30_000 });
  assert.equal(host.get("stuck")?.state, "active");
  const hang = host.errors.find((e) => e.origin === "worker" && e.plugin === "stuck");
  assert.match(hang?.message ?? "", /sent nothing for \d+ ms while it owed an answer/);
  assert.match(hang?.message ?? "", /its 1000 ms budget \(hangTimeout\)/);
  const ok = await host.call("/api/plugins/stuck/ok");
  assert.equal(await ok.text(), "ok", "the restarted worker serves");
});

/** A plugin whose worker exits when asked (noticed by its silence, within its short hangTimeout). */
const CRASHY = pluginSource("crashy", {
  setup: `ctx.routes.get("/exit", () => Deno.exit(1)); ctx.routes.get("/ok", (c) => c.text("ok"));`,
});

/** Crashes the plugin's worker once and waits for the host to notice. */
async function crash(host: Awaited<ReturnType<typeof isolatedHost>>): Promise<void> {
  const before = host.errors.filter((e) => e.origin === "worker").length;
  const res = await host.call("/api/plugins/crashy/exit");
  await res.body?.cancel();
  await waitFor(() => host.errors.filter((e) => e.origin === "worker").length > before, {
    what: "the crash to be noticed",
    timeoutMs: 30_000,
  });
}

/** Waits until the crashed plugin is active again (restarted) or failed, and returns which. */
async function settled(host: Awaited<ReturnType<typeof isolatedHost>>, restarts: number): Promise<string> {
  await waitFor(() => host.get("crashy")?.state === "failed" || host.get("crashy")?.restarts === restarts, {
    what: `restart ${restarts} or failure`,
    timeoutMs: 30_000,
  });
  return host.get("crashy")!.state;
}

Deno.test("a crash-looped plugin reloaded by the operator survives its next single crash", async () => {
  await using tmp = await tempPlugins({ "plugins/crashy/mod.ts": CRASHY });
  await using host = await isolatedHost(tmp.dir, { limits: { crashy: { hangTimeout: 500 } } });
  for (let i = 1; i <= 3; i++) {
    await crash(host);
    assert.equal(await settled(host, i), i < 3 ? "active" : "failed");
  }
  assert.match(host.get("crashy")!.error!, /crashed 3 times within 5 minutes/);
  await host.reload("crashy");
  assert.equal(host.get("crashy")?.state, "active");
  await crash(host);
  assert.equal(await settled(host, 3), "active", host.get("crashy")?.error);
  assert.equal(await (await host.call("/api/plugins/crashy/ok")).text(), "ok");
});

Deno.test("an operator's reload of an active plugin empties its crash window; its own ctx.reload() does not", async () => {
  await using tmp = await tempPlugins({
    "plugins/crashy/mod.ts": pluginSource("crashy", {
      // Its own reload is asked for after the request, so that no call in flight waits on the old worker's end.
      setup: `ctx.routes.get("/exit", () => Deno.exit(1));
        ctx.routes.get("/reload-self", (c) => { setTimeout(() => void ctx.reload(), 0); return c.text("reloading"); });`,
    }),
  });
  await using host = await isolatedHost(tmp.dir, { limits: { crashy: { hangTimeout: 500 } } });
  for (let i = 1; i <= 2; i++) {
    await crash(host);
    assert.equal(await settled(host, i), "active");
  }
  await host.reload("crashy");
  await crash(host);
  assert.equal(await settled(host, 3), "active", "two crashes before the operator's reload are forgotten");
  await crash(host);
  assert.equal(await settled(host, 4), "active");
  // The plugin reloading itself is no operator's reload: the next crash is its third in the window.
  await (await host.call("/api/plugins/crashy/reload-self")).body?.cancel();
  await waitFor(() => host.get("crashy")?.reloads === 2, { what: "its own reload", timeoutMs: 30_000 });
  await crash(host);
  assert.equal(await settled(host, 5), "failed");
  assert.match(host.get("crashy")!.error!, /crashed 3 times within 5 minutes/);
});

Deno.test("hangTimeout: host-wide and per plugin in plugboard.json; heartbeatTimeout is still read as its old name", () => {
  const settings = hostSettingsSchema.parse({ hangTimeout: 20_000, limits: { slow: { hangTimeout: 60_000 } } });
  assert.equal(settings.limits?.slow.hangTimeout, 60_000);
  assert.equal(resolveHostOptions({ cwd: "/srv" }).hangTimeout, 10_000);
  assert.equal(resolveHostOptions({ cwd: "/srv", heartbeatTimeout: 3000 }).hangTimeout, 3000);
  assert.equal(resolveHostOptions({ cwd: "/srv", hangTimeout: 5000, heartbeatTimeout: 3000 }).hangTimeout, 5000);
  assert.throws(() => hostSettingsSchema.parse({ limits: { slow: { hangTimeout: 0 } } }));
});

Deno.test("hangTimeout, routeTimeout and the other limits are checked where they are set, in code as in plugboard.json", () => {
  const refused = (options: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => resolveHostOptions({ cwd: "/srv", ...options }), (e: Error & { code?: string }) => {
      assert.equal(e.code, "INVALID_SETTINGS");
      assert.match(e.message, pattern);
      return true;
    });
  // Each of these used to be taken as given: workers judged hung within 25 ms, every route a 504, a worker
  // restarted for any heap, a heartbeat every millisecond that never judges anything hung.
  refused({ hangTimeout: 0 }, /^Host options are invalid: hangTimeout: /);
  refused({ hangTimeout: -5 }, /hangTimeout: /);
  refused({ hangTimeout: Number.NaN }, /hangTimeout: /);
  refused({ hangTimeout: "10000" }, /hangTimeout: /);
  refused({ routeTimeout: -1 }, /routeTimeout: /);
  refused({ memoryLimitMb: 0 }, /memoryLimitMb: /);
  refused({ bodyLimit: 1.5 }, /bodyLimit: /);
  refused({ limits: { slow: { routeTimeout: 0 } } }, /limits\.slow\.routeTimeout: /);
  refused({ limits: { slow: { hangTimeout: "60000" } } }, /limits\.slow\.hangTimeout: /);
  // A timer cannot wait longer than 2^31 - 1 ms: a longer one fires at once (a reload dropped every request in
  // flight, every setup timed out at once).
  refused({ routeTimeout: 3_000_000_000 }, /routeTimeout: .*2147483647/);
  refused({ setupTimeout: 2 ** 31 }, /setupTimeout: /);
  // URL plugins' fetch limits too (a fetch timeout past the bound made every URL plugin's load fail at once).
  refused({ remote: { timeoutMs: 1e12 } }, /remote\.timeoutMs: /);
  refused({ remote: { timeoutMs: 0 } }, /remote\.timeoutMs: /);
  refused({ remote: { maxModules: -1 } }, /remote\.maxModules: /);
  assert.equal(resolveHostOptions({ cwd: "/srv", remote: { timeoutMs: 5000 } }).remote.timeoutMs, 5000);
  assert.throws(() => hostSettingsSchema.parse({ limits: { slow: { routeTimeout: 3_000_000_000 } } }));
  assert.throws(() => hostSettingsSchema.parse({ hangTimeout: 2 ** 31 }));
  assert.equal(resolveHostOptions({ cwd: "/srv", hangTimeout: 2 ** 31 - 1 }).hangTimeout, 2 ** 31 - 1);
  assert.equal(
    resolveHostOptions({ cwd: "/srv", limits: { slow: { hangTimeout: 60_000 } } }).limits.slow.hangTimeout,
    60_000,
  );
});

Deno.test("Watchdog: a stall of the host's own thread is not counted as the worker's silence", async () => {
  const hangs: number[] = [];
  let stalled = false;
  const dog = new Watchdog({
    hangTimeout: 100,
    ping() {
      // The worker answers 30 ms after each heartbeat...
      setTimeout(() => dog.heard(), 30);
      if (stalled) return;
      // ...but the host's thread is held up for 400 ms right after the first one: on resuming, the next beat is due
      // before the answer is read.
      stalled = true;
      const end = performance.now() + 400;
      while (performance.now() < end) { /* the host is busy */ }
    },
    onHang: (ms) => void hangs.push(ms),
  });
  dog.start();
  await new Promise((r) => setTimeout(r, 600));
  dog.stop();
  assert.deepEqual(hangs, []);
});
