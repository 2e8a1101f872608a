/**
 * A plugin that floods the host with events and log lines is throttled to
 * its per-second budgets, reported once a second (not once per event), and
 * the host keeps answering.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";
import { EMIT_RATE, LOG_RATE } from "../src/runtime/rate_budget.ts";
import type { SystemErrorEvent } from "../mod.ts";

const FLOOD_MS = 1500;

Deno.test("flood: events and log lines past the budget are dropped and reported once a second; /health answers", async () => {
  await using tmp = await tempPlugins({
    "plugins/flooder/mod.ts": pluginSource("flooder", {
      setup: `const end = Date.now() + ${FLOOD_MS};
        const t = ctx.setInterval(() => {
          if (Date.now() > end) return clearInterval(t);
          for (let i = 0; i < 5000; i++) ctx.events.emit("flooder.tick", { i });
          for (let i = 0; i < 200; i++) ctx.log.error("line " + i);
        }, 0);`,
    }),
    "plugins/counter/mod.ts": pluginSource("counter", {
      setup: `let n = 0;
        ctx.events.on("flooder.tick", () => { n++; });
        ctx.routes.get("/", (c) => c.json({ n }));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  const reports: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void reports.push(e));
  const started = Date.now();
  await host.start();
  try {
    const slowest: number[] = [];
    while (Date.now() - started < FLOOD_MS + 500) {
      const t0 = performance.now();
      const res = await Promise.resolve(host.fetch(new Request("http://localhost/health"), LOOPBACK));
      assert.equal(res.status, 200);
      await res.body?.cancel();
      slowest.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1200)); // the last second's count is reported when it ends
    const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
    const limited = reports.filter((e) => e.plugin === "flooder" && /events over its budget/.test(e.message));
    assert.ok(limited.length >= 1, "the flood is reported");
    assert.ok(limited.length <= seconds, `once a second at most: ${limited.length} reports in ~${seconds} s`);
    await waitFor(async () => {
      const res = await Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/counter/"), LOOPBACK));
      return (await res.json()).n > 0;
    }, { what: "some events delivered" });
    const res = await Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/counter/"), LOOPBACK));
    const { n } = await res.json();
    assert.ok(n <= EMIT_RATE * seconds, `${n} events delivered, budget ${EMIT_RATE}/s over ~${seconds} s`);
    const lines = host.logs.filter((r) => r.name === "flooder" && r.level === "error").length;
    assert.ok(lines <= LOG_RATE * seconds, `${lines} log lines kept, budget ${LOG_RATE}/s`);
    assert.ok(host.logs.some((r) => /log lines and reports dropped \(over 100 per second\)/.test(r.message)));
    // Containment, not a speed target: every health check answered within a second during the flood.
    assert.ok(Math.max(...slowest) < 1000, `slowest /health: ${Math.round(Math.max(...slowest))} ms`);
  } finally {
    await host.stop();
  }
});

Deno.test("flood: an operator's per-plugin rates replace the default budgets; a second's worth waits, the rest is dropped", async () => {
  await using tmp = await tempPlugins({
    "plugins/chatty/mod.ts": pluginSource("chatty", {
      setup: `ctx.routes.post("/burst", (c) => {
          for (let i = 0; i < 500; i++) ctx.events.emit("chatty.tick", { i });
          for (let i = 0; i < 50; i++) ctx.log.info("line " + i);
          return c.json({ ok: true });
        });`,
    }),
    "plugins/listener/mod.ts": pluginSource("listener", {
      setup: `const seen = [];
        ctx.events.on("chatty.tick", (e) => { seen.push(e.i); });
        ctx.routes.get("/", (c) => c.json({ seen }));`,
    }),
  });
  const host = folderHost(tmp.dir, {
    isolation: "worker",
    limits: { chatty: { emitsPerSecond: 20, logsPerSecond: 5 } },
  });
  const reports: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void reports.push(e));
  await host.start();
  const seen = async (): Promise<number[]> =>
    (await (await Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/listener/"), LOOPBACK))).json())
      .seen;
  try {
    const res = await Promise.resolve(
      host.fetch(new Request("http://localhost/api/plugins/chatty/burst", { method: "POST" }), LOOPBACK),
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await waitFor(async () => (await seen()).length >= 20, { what: "this second's budget delivered" });
    assert.deepEqual(await seen(), Array.from({ length: 20 }, (_, i) => i), "the first 20, in order, at once");
    // The next second's budget goes to the 20 that waited, in order; the other 460 were dropped and reported once.
    await waitFor(async () => (await seen()).length >= 40, { timeoutMs: 3000, what: "the queued events delivered" });
    assert.deepEqual(await seen(), Array.from({ length: 40 }, (_, i) => i));
    await waitFor(
      () => reports.some((e) => e.plugin === "chatty" && (e.error as { code?: string })?.code === "RATE_LIMITED"),
      {
        timeoutMs: 3000,
        what: "the flood's report",
      },
    );
    const limited = reports.filter((e) =>
      e.plugin === "chatty" && (e.error as { code?: string })?.code === "RATE_LIMITED"
    );
    assert.equal(limited.length, 1);
    assert.match(limited[0].message, /emitted 460 events over its budget of 20 per second; they were dropped/);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await seen()).length, 40, "nothing more arrives");
    const lines = host.logs.filter((r) => r.name === "chatty" && /^line /.test(r.message)).length;
    assert.ok(lines <= 5, `${lines} log lines kept, budget 5/s`);
  } finally {
    await host.stop();
  }
});
