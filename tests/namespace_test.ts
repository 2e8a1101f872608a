/**
 * Names belong to the plugin that declares them: services and hooks in its
 * manifest's `provides`, events in its `emits`. A squatter that loads first
 * (alphabetically) fails; the owner does not.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, pluginSource, tempPlugins, waitFor } from "./_helpers.ts";

const OWNER = pluginSource("ledger", {
  extra: `emits: ["ledger.*"], provides: { services: ["ledger"], hooks: ["ledger.post"] },`,
  setup: `ctx.services.provide("ledger", { who: () => "owner" });
    ctx.hooks.define("ledger.post", (x) => "owner:" + x);
    ctx.routes.post("/", (c) => { ctx.events.emit("ledger.posted", { by: "owner" }); return c.text("ok"); });`,
});

/** First alphabetically, no permissions: takes the owner's service and hook names. */
const SQUATTER = pluginSource("aaa-squat", {
  setup: `ctx.services.provide("ledger", { who: () => "squatter" });
    ctx.hooks.define("ledger.post", (x) => "squatter:" + x);`,
});

/** Named like the owner's event prefix, without declaring it. */
const PREFIX = pluginSource("ledger-x", {
  setup: `ctx.routes.post("/", (c) => { ctx.events.emit("ledger-x.ok", {}); return c.text("ok"); });`,
});

for (const isolation of ["worker", "none"] as const) {
  Deno.test(`namespaces (isolation: ${isolation}): a squatter of declared service and hook names fails, not the owner`, async () => {
    await using tmp = await tempPlugins({ "plugins/ledger/mod.ts": OWNER, "plugins/aaa-squat/mod.ts": SQUATTER });
    const host = folderHost(tmp.dir, { isolation });
    await host.start();
    try {
      assert.equal(host.get("ledger")!.state, "active", host.get("ledger")!.error);
      const squat = host.get("aaa-squat")!;
      assert.equal(squat.state, "failed");
      assert.match(
        squat.error!,
        /may not provide service "ledger": plugin "ledger" declares it in its manifest's "provides"/,
      );
      assert.equal(await host.services.resolve<{ who(): string }>("ledger").who(), "owner");
      assert.equal(await host.hooks.call("ledger.post" as never, "x" as never), "owner:x");
    } finally {
      await host.stop();
    }
  });
}

Deno.test("namespaces: a plugin named like another's declared events cannot emit them under its own name", async () => {
  await using tmp = await tempPlugins({
    "plugins/ledger/mod.ts": OWNER,
    // Its own events ("ledger-x.*") are not covered by the owner's "ledger.*": they stay its own.
    "plugins/ledger-x/mod.ts": PREFIX,
    "plugins/task/mod.ts": pluginSource("task", {
      extra: `emits: [],`,
      setup:
        `ctx.routes.post("/", (c) => { ctx.events.emit("task.created", { taskId: "forged" }); return c.text("ok"); });`,
    }),
    "plugins/tasks-owner/mod.ts": pluginSource("tasks-owner", { extra: `emits: ["task.*"],` }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  const seen: string[] = [];
  host.events.on("task.*" as never, (_p: unknown, name: string) => void seen.push(name));
  host.events.on("ledger-x.*" as never, (_p: unknown, name: string) => void seen.push(name));
  const errors: string[] = [];
  host.events.on("system.error", (e) => void errors.push(e.message));
  await host.start();
  try {
    for (const name of ["task", "ledger-x"]) {
      const res = await host.fetch(new Request(`http://localhost/api/plugins/${name}/`, { method: "POST" }), LOOPBACK);
      await res.body?.cancel();
    }
    await waitFor(() => errors.some((m) => /may not emit "task.created"/.test(m)), { what: "the refusal" });
    assert.match(errors.find((m) => /task\.created/.test(m))!, /plugin "tasks-owner" declares this one/);
    await waitFor(() => seen.includes("ledger-x.ok"), { what: "the undeclared but unclaimed own event" });
    assert.deepEqual(seen, ["ledger-x.ok"], "task.created never reached a listener; ledger-x's own event did");
  } finally {
    await host.stop();
  }
});
