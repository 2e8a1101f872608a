/**
 * An isolated plugin's workers over its lifecycle, in the default mode: a
 * reload or an unload drops no request (the old worker finishes what it has
 * in flight before it stops), and no worker outlives its purpose (every
 * prepared version that is not activated ends its worker at once, so failed
 * loads leak nothing and a stopped host's process exits by itself).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Drain } from "../src/runtime/worker_drain.ts";
import { denoCommand, folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** A fetch through the host, as a client on loopback. */
function call(host: { fetch: (r: Request, i: Deno.ServeHandlerInfo) => Response | Promise<Response> }, path: string) {
  return Promise.resolve(host.fetch(new Request(`http://127.0.0.1${path}`), LOOPBACK));
}

Deno.test("30 reloads of an isolated plugin under 8 concurrent clients: every answer is 2xx, new requests reach the new version", async () => {
  await using tmp = await tempPlugins({
    // A route that waits a little, as one doing I/O: requests are in flight on the old worker at every reload.
    "plugins/busy/mod.ts": pluginSource("busy", {
      setup: `const id = crypto.randomUUID();
        ctx.routes.get("/id", async (c) => { await new Promise((r) => setTimeout(r, 5)); return c.text(id); });`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    assert.equal(host.get("busy")?.isolation, "worker");
    const statuses = new Map<number, number>();
    let reloading = true;
    const client = async () => {
      while (reloading) {
        const res = await call(host, "/api/plugins/busy/id");
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: 8 }, client);
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) {
      await host.reload("busy");
      // Once the reload is done, a new request is the new version's.
      const res = await call(host, "/api/plugins/busy/id");
      assert.equal(res.status, 200);
      const id = await res.text();
      assert.ok(!ids.has(id), `reload ${i + 1}: a request after it reached an old version`);
      ids.add(id);
    }
    reloading = false;
    await Promise.all(clients);
    const answers = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.ok(answers >= 30, `the clients made ${answers} requests`);
    assert.deepEqual(Object.fromEntries(statuses), { 200: answers }, "every request was answered 200");
    assert.equal(host.get("busy")?.reloads, 30);
  } finally {
    await host.stop();
  }
});

Deno.test("unloading an isolated plugin: the request in flight completes 200, a later one gets 404, its teardown runs after", async () => {
  await using tmp = await tempPlugins({
    // The slow route waits until the test releases it (a file in its data folder), however long the unload takes.
    "plugins/slow/mod.ts": pluginSource("slow", {
      setup: `ctx.routes.get("/slow", async (c) => {
        ctx.events.emit("slow.started", {});
        for (;;) {
          try { await Deno.stat(ctx.dataDir + "/release"); break; }
          catch { await new Promise((r) => setTimeout(r, 10)); }
        }
        return c.text("finished");
      });
      ctx.routes.get("/quick", (c) => c.text("quick"));
      ctx.onDispose(() => ctx.events.emit("slow.gone", {}));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const started = Promise.withResolvers<void>();
    host.events.on("slow.started" as never, () => started.resolve());
    let gone = 0;
    host.events.on("slow.gone" as never, () => void gone++);
    let settled = false;
    const slow = call(host, "/api/plugins/slow/slow").finally(() => settled = true);
    await started.promise;
    const unloading = host.unload("slow");
    await waitFor(() => host.get("slow")?.state === "unloading", { what: "the unload to begin", timeoutMs: 20_000 });
    const later = await call(host, "/api/plugins/slow/quick");
    assert.equal(later.status, 404, "a request after the unload began is not served");
    await later.body?.cancel();
    assert.equal(settled, false, "the request in flight is still being served");
    assert.equal(host.get("slow")?.state, "unloading", "the unload waits for it");
    assert.equal(gone, 0, "its teardown waits for it too");
    await Deno.writeTextFile(join(tmp.dir, "data", "plugins", "slow", "release"), "");
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "finished");
    await unloading;
    assert.equal(host.get("slow")?.state, "unloaded");
    assert.equal(gone, 1, "what its teardown emits reaches the host, as in-process");
  } finally {
    await host.stop();
  }
});

Deno.test("a request held in a middleware across a reload is served by the new version; across an unload, 404", async () => {
  await using tmp = await tempPlugins({
    "plugins/busy/mod.ts": pluginSource("busy", {
      setup: `const id = crypto.randomUUID(); ctx.routes.get("/id", (c) => c.text(id));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    // A host-wide middleware holds requests to /held/ after they matched the plugin's route, until released.
    let entered = Promise.withResolvers<void>();
    let release = Promise.withResolvers<void>();
    await host.load({
      name: "gate",
      version: "1.0.0",
      setup(ctx) {
        ctx.middleware(async (c, next) => {
          if (c.req.query("held") !== undefined) {
            entered.resolve();
            await release.promise;
          }
          await next();
        });
      },
    });
    const before = await (await call(host, "/api/plugins/busy/id")).text();
    const held = call(host, "/api/plugins/busy/id?held");
    await entered.promise;
    await host.reload("busy");
    release.resolve();
    const res = await held;
    assert.equal(res.status, 200);
    const after = await res.text();
    assert.notEqual(after, before, "it reached the new version");
    assert.equal(await (await call(host, "/api/plugins/busy/id")).text(), after);

    entered = Promise.withResolvers<void>();
    release = Promise.withResolvers<void>();
    const heldAcrossUnload = call(host, "/api/plugins/busy/id?held");
    await entered.promise;
    await host.unload("busy");
    release.resolve();
    const gone = await heldAcrossUnload;
    assert.equal(gone.status, 404, "the plugin is gone, not unavailable");
    await gone.body?.cancel();
  } finally {
    await host.stop();
  }
});

/** A provider whose service waits until the test writes `release` in its data folder. */
const HELD_PROVIDER = pluginSource("p", {
  setup: `const id = crypto.randomUUID();
    ctx.services.provide("p", {
      async held(n) {
        ctx.events.emit("p.started", { n });
        for (;;) {
          try { await Deno.stat(ctx.dataDir + "/release"); return "done " + n; }
          catch { await new Promise((r) => setTimeout(r, 10)); }
        }
      },
    });
    ctx.routes.get("/id", (c) => c.text(id));`,
});

const HELD_CONSUMER = pluginSource("c", {
  setup: `ctx.routes.get("/held/:n", async (c) => c.text(await ctx.services.resolve("p").held(c.req.param("n"))));`,
});

Deno.test("a provider's reload: the service calls its old worker is running finish, for an isolated or trusted caller", async () => {
  await using tmp = await tempPlugins({ "plugins/p/mod.ts": HELD_PROVIDER, "plugins/c/mod.ts": HELD_CONSUMER });
  for (const trusted of [[], ["c"]]) {
    await Deno.remove(join(tmp.dir, "data"), { recursive: true }).catch(() => {});
    const host = folderHost(tmp.dir, { isolation: "worker", trusted });
    await host.start();
    try {
      const started = new Set<string>();
      host.events.on("p.started" as never, (e: { n: string }) => void started.add(e.n));
      const calls = ["1", "2"].map((n) => call(host, `/api/plugins/c/held/${n}`));
      await waitFor(() => started.size === 2, { what: "the calls to reach p" });
      const before = await (await call(host, "/api/plugins/p/id")).text();
      const reloading = host.reload("p");
      // The new version serves; the old worker still has both calls in flight.
      await waitFor(async () => (await (await call(host, "/api/plugins/p/id")).text()) !== before, {
        what: "the new version to go live",
        timeoutMs: 20_000,
      });
      await Deno.writeTextFile(join(tmp.dir, "data", "plugins", "p", "release"), "");
      for (const [i, res] of (await Promise.all(calls)).entries()) {
        assert.deepEqual([res.status, await res.text()], [200, `done ${i + 1}`], `trusted: ${trusted}`);
      }
      await reloading;
      assert.equal(host.get("p")?.state, "active");
    } finally {
      await host.stop();
    }
  }
});

Deno.test("a request already past its route deadline does not hold up its plugin's reload", async () => {
  await using tmp = await tempPlugins({
    "plugins/stuck/mod.ts": pluginSource("stuck", { setup: `ctx.routes.get("/stuck", () => new Promise(() => {}));` }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker", limits: { stuck: { routeTimeout: 1500 } } });
  await host.start();
  try {
    const res = await call(host, "/api/plugins/stuck/stuck");
    assert.equal(res.status, 504, "its client has its answer");
    await res.body?.cancel();
    const started = performance.now();
    await host.reload("stuck");
    const ms = performance.now() - started;
    assert.ok(ms < 1200, `the reload took ${Math.round(ms)} ms`);
  } finally {
    await host.stop();
  }
});

Deno.test("Drain: waits for each request until it has been in flight for the limit, not for the limit from now", async () => {
  const drain = new Drain();
  drain.track(new Promise(() => {}));
  await new Promise((r) => setTimeout(r, 300));
  let started = performance.now();
  assert.equal(await drain.wait(250), false, "a request past its limit is not waited for");
  assert.ok(performance.now() - started < 100);
  // A younger one is waited for, and the stuck one only until its own limit: 100 ms from now, not 400.
  const young = Promise.withResolvers<void>();
  drain.track(young.promise);
  setTimeout(young.resolve, 20);
  started = performance.now();
  assert.equal(await drain.wait(400), false);
  const ms = performance.now() - started;
  assert.ok(ms >= 20 && ms < 350, `waited ${Math.round(ms)} ms`);
  // A limit past what a timer can hold neither ends the wait at once nor waits for nothing.
  const late = new Drain();
  const reply = Promise.withResolvers<void>();
  late.track(reply.promise);
  const waiting = late.wait(3e9);
  setTimeout(reply.resolve, 30);
  assert.equal(await waiting, true);
});

/**
 * Runs a fixture in a child process with every permission; resolves with its
 * stdout lines and when it exited. A child still running `killAfterMs` after
 * it started, or 5 s after the line `last` accepts, is killed, so that a test
 * fails instead of hanging.
 */
async function runChild(args: string[], options: { killAfterMs: number; last: (line: string) => boolean }) {
  const child = denoCommand("run", ["-A", ...args], { stderr: "inherit" }).spawn();
  const lines: string[] = [];
  let lastAt = 0;
  let killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
  const read = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (options.last(line)) {
          lastAt = performance.now();
          clearTimeout(killer);
          killer = setTimeout(() => child.kill("SIGKILL"), 5000);
        }
      }
    }
  })();
  const status = await child.status;
  const exitedAt = performance.now();
  clearTimeout(killer);
  await read;
  return { lines, status, exitedAt, lastAt };
}

Deno.test("100 failed loads and reloads of isolated plugins leave threads and memory where they were", async () => {
  await using tmp = await tempPlugins();
  // In a process of its own: this one's threads and memory are shared with the other test modules.
  const run = await runChild(["--v8-flags=--expose-gc", join(FIXTURES, "failed_loads_child.ts"), tmp.dir, "100"], {
    killAfterMs: 120_000,
    last: (line) => line.startsWith("{"),
  });
  const result = JSON.parse(run.lines.at(-1) ?? "{}");
  assert.equal(result.leak, undefined, result.leak);
  assert.ok(
    result.threadsAfter <= result.threadsBefore,
    `${result.threadsBefore} threads before, ${result.threadsAfter} after 100 failed loads`,
  );
  const grownMb = (result.rssAfter - result.rssBefore) / 2 ** 20;
  assert.ok(grownMb < 20, `RSS grew ${grownMb.toFixed(1)} MB over 100 failed loads`);
  assert.equal(run.status.code, 0);
});

Deno.test("a host with plugins in every state: its process exits by itself within 2 s of host.stop()", async () => {
  await using tmp = await tempPlugins();
  const run = await runChild([join(FIXTURES, "every_state_child.ts"), tmp.dir], {
    killAfterMs: 90_000,
    last: (line) => line.startsWith("stopped "),
  });
  const stopped = run.lines.find((l) => l.startsWith("stopped "));
  assert.ok(stopped, `the child printed: ${run.lines.join("\n")}`);
  assert.deepEqual(JSON.parse(stopped.slice("stopped ".length)), {
    active: "active",
    throws: "failed",
    off: "disabled",
    needy: "failed",
    "cycle-a": "failed",
    "cycle-b": "failed",
    crashy: "failed",
    refused: "failed",
    boxed: "active",
  });
  const ms = run.exitedAt - run.lastAt;
  assert.ok(run.status.success, `the child exited with ${run.status.code} (${run.status.signal ?? "no signal"})`);
  assert.ok(ms < 2000, `the child exited ${Math.round(ms)} ms after host.stop()`);
});
