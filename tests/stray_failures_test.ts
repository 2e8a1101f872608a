/**
 * Failures nobody awaited never end the host: each is reported against the
 * plugin on its stack, counted, and the host keeps serving.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { SystemErrorEvent } from "../mod.ts";
import { LOOPBACK, pluginSource, quietHost, tempPlugins, waitFor } from "./_helpers.ts";

/** Each way a plugin can leave a failure floating, as a plugin of its own. */
const PATHS: Record<string, string> = {
  "ctx-timeout-reject": `ctx.setTimeout(() => { Promise.reject(new Error("ctx-timeout-reject")); }, 1);`,
  "timeout-throw": `setTimeout(() => { throw new Error("timeout-throw"); }, 1);`,
  "timeout-reject": `setTimeout(async () => { throw new Error("timeout-reject"); }, 1);`,
  "setup-floating": `(async () => { await null; throw new Error("setup-floating"); })().then(() => {});
    await new Promise((r) => setTimeout(r, 5));`,
  "handler-floating": `ctx.events.on("stray.now", () => { Promise.reject(new Error("handler-floating")); });`,
  "route-after-answer":
    `ctx.routes.get("/", (c) => { setTimeout(() => Promise.reject(new Error("route-after-answer")), 1); return c.text("ok"); });`,
  "middleware-floating":
    `ctx.middleware(async (c, next) => { Promise.reject(new Error("middleware-floating")); await next(); });`,
};

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`floating failures (isolation: ${isolation}) are reported against their plugin and the host keeps serving`, async () => {
    await using tmp = await tempPlugins();
    for (const [name, code] of Object.entries(PATHS)) {
      // setup is async here so that setup-floating can wait a little.
      await tmp.write(
        `plugins/${name}/mod.ts`,
        pluginSource(name, {
          setup: "",
          extra: name === "middleware-floating" ? `permissions: { hostWide: ["middleware"] },` : "",
        }).replace("setup(ctx) {  }", `async setup(ctx) { ${code} }`),
      );
    }
    await tmp.write(
      "plugins/hello/mod.ts",
      pluginSource("hello", { setup: `ctx.routes.get("/", (c) => c.text("hi"));` }),
    );
    const host = quietHost({
      isolation,
      pluginsDir: join(tmp.dir, "plugins"),
      dataDir: join(tmp.dir, "data"),
    });
    const errors: SystemErrorEvent[] = [];
    host.events.on("system.error", (e) => void errors.push(e));
    try {
      await host.start();
      assert.deepEqual(host.list().filter((p) => p.state !== "active").map((p) => [p.name, p.error]), []);
      host.events.emit("stray.now" as never, {} as never);
      const routed = await host.fetch(new Request("http://x/api/plugins/route-after-answer/"), LOOPBACK);
      assert.equal(await routed.text(), "ok");
      const other = await host.fetch(new Request("http://x/api/plugins/hello/"), LOOPBACK);
      assert.equal(await other.text(), "hi");
      for (const name of Object.keys(PATHS)) {
        await waitFor(() => errors.some((e) => e.origin === "unhandled" && e.plugin === name), {
          what: `the stray failure of "${name}" to be reported`,
        });
        assert.ok(host.get(name)!.failures >= 1, `${name} counts its failure`);
      }
      const health = await host.fetch(new Request("http://x/health"), LOOPBACK);
      assert.equal((await health.json()).plugins.active, Object.keys(PATHS).length + 1);
    } finally {
      await host.stop();
    }
  });
}

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`a new version whose setup leaves a floating rejection is rolled back (isolation: ${isolation})`, () =>
    rollback(isolation));
}

async function rollback(isolation: "none" | "worker") {
  await using tmp = await tempPlugins({
    "plugins/flaky/mod.ts": pluginSource("flaky", { setup: `ctx.routes.get("/", (c) => c.text("v1"));` }),
  });
  const host = quietHost({ isolation, pluginsDir: join(tmp.dir, "plugins"), dataDir: join(tmp.dir, "data") });
  try {
    await host.start();
    await tmp.write(
      "plugins/flaky/mod.ts",
      pluginSource("flaky", {
        version: "2.0.0",
        setup: `Promise.reject(new Error("forgot to await")); ctx.routes.get("/", (c) => c.text("v2"));`,
      }),
    );
    await assert.rejects(
      host.reload("flaky"),
      /its setup left a promise rejected with nobody handling it: forgot to await/,
    );
    const res = await host.fetch(new Request("http://x/api/plugins/flaky/"), LOOPBACK);
    assert.equal(await res.text(), "v1", "the old version keeps serving");
    assert.equal(host.get("flaky")!.version, "1.0.0");
    const snapshots = [...Deno.readDirSync(join(tmp.dir, "plugins"))].filter((e) => e.name.startsWith("."));
    assert.deepEqual(snapshots, [], "the refused version's snapshot is gone");
  } finally {
    await host.stop();
  }
}

Deno.test("a stray failure of the embedding application keeps Deno's default: the host does not absorb it", async () => {
  const host = quietHost({ pluginsDir: null });
  const errors: SystemErrorEvent[] = [];
  host.events.on("system.error", (e) => void errors.push(e));
  await host.start();
  // Listeners run in the order they were added: this one sees whether the host's listener prevented Deno's default
  // (ending the process), then prevents it itself so the test can go on.
  let defaultPrevented: boolean | undefined;
  const watch = (e: PromiseRejectionEvent) => {
    defaultPrevented = e.defaultPrevented;
    e.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", watch);
  try {
    Promise.reject(new Error("the embedder's own bug"));
    await waitFor(() => defaultPrevented !== undefined, { what: "the rejection" });
    assert.equal(defaultPrevented, false, "the host left the embedder's failure to Deno");
    assert.deepEqual(errors, [], "and did not report it as a plugin's");
  } finally {
    globalThis.removeEventListener("unhandledrejection", watch);
    await host.stop();
  }
});
