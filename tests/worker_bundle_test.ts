/**
 * The worker bundle (`src/runtime/worker_bundle.js`, made by
 * `scripts/bundle_worker.ts`): it is what its sources give, and it shares
 * with a plugin's own code the modules whose identity the plugin can see
 * (plugboard's error classes, Hono), so an isolated plugin behaves as an
 * in-process one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildWorkerBundle, WORKER_BUNDLE } from "../scripts/bundle_worker.ts";
import type { SystemErrorEvent } from "../mod.ts";
import { folderHost, LOOPBACK, tempPlugins, waitFor } from "./_helpers.ts";

Deno.test("worker bundle: the committed bundle is what its sources give (else: deno task bundle:worker)", async () => {
  const committed = await Deno.readTextFile(WORKER_BUNDLE);
  const fresh = await buildWorkerBundle();
  if (committed === fresh) return;
  const at = [...fresh].findIndex((ch, i) => committed[i] !== ch);
  const made = committed.match(/\(deno bundle, Deno ([^)]+)\)/)?.[1];
  assert.fail(
    `src/runtime/worker_bundle.js is out of date with its sources (first difference at character ${at}): run ` +
      `deno task bundle:worker` + (made && made !== Deno.version.deno ? ` (it was made with Deno ${made})` : ""),
  );
});

/** A plugin that checks, in its own code, what plugboard hands it against the classes it imports itself. */
const SHARED_PLUGIN = `
import { Hono } from "hono";
import { HonoBase } from "hono/hono-base";
import { KeyExistsError, PluginError, ServiceNotFoundError } from ${
  JSON.stringify(new URL("../plugin.ts", import.meta.url).href)
};

export default {
  name: "shared",
  version: "1.0.0",
  setup(ctx) {
    const seen = {};
    try { ctx.services.resolve("nobody-provides-this"); } catch (e) {
      seen.serviceNotFound = e instanceof ServiceNotFoundError && e instanceof PluginError;
    }
    ctx.storage.set("k", 1);
    try { ctx.storage.add("k", 2); } catch (e) { seen.keyExists = e instanceof KeyExistsError && e instanceof PluginError; }
    seen.hono = ctx.routes instanceof HonoBase;
    ctx.routes.get("/seen", (c) => c.json(seen));
    // A router of its own, mounted on ctx.routes: its failures are the plugin's, reported as in-process.
    const sub = new Hono();
    sub.get("/boom", () => { throw new Error("sub-router failure"); });
    ctx.routes.route("/sub", sub);
  },
};
`;

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`worker bundle: a plugin's own plugin.ts and Hono are plugboard's (isolation: ${isolation})`, async () => {
    await using tmp = await tempPlugins({ "plugins/shared/mod.ts": SHARED_PLUGIN });
    const host = folderHost(tmp.dir, { isolation });
    const errors: SystemErrorEvent[] = [];
    host.events.on("system.error", (e) => void errors.push(e));
    try {
      const [info] = await host.start();
      assert.equal(info.state, "active", info.error);
      const seen = await (await host.fetch(new Request("http://x/api/plugins/shared/seen"), LOOPBACK)).json();
      assert.deepEqual(seen, { serviceNotFound: true, keyExists: true, hono: true });
      const boom = await host.fetch(new Request("http://x/api/plugins/shared/sub/boom"), LOOPBACK);
      assert.equal(boom.status, 500);
      assert.equal(boom.headers.get("content-type"), "application/problem+json");
      await boom.body?.cancel();
      await waitFor(() => errors.some((e) => e.plugin === "shared" && /sub-router failure/.test(e.message)), {
        what: "the sub-router's failure reported against the plugin",
      });
    } finally {
      await host.stop();
    }
  });
}

/**
 * Globals Deno 2.9 loads the first time they are read, each at a cost to every worker (memory and milliseconds of
 * CPU): the worker's own code must leave them to the plugin (docs/ARCHITECTURE.md, "A lean worker").
 */
const LAZY_GLOBALS = ["Response", "Request", "setTimeout", "setInterval", "clearTimeout", "clearInterval", "process"];

/** A worker module that notes every read of those globals (and of `Deno.Command`), then loads the bundle. */
const READS_PROBE = `
const reads = [];
const watch = (target, key, shown) => {
  const own = Object.getOwnPropertyDescriptor(target, key);
  if (!own?.configurable) return reads.push(shown + " (not configurable: cannot watch)");
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: own.enumerable,
    get() { reads.push(shown); return own.get ? own.get.call(target) : own.value; },
    set(value) { Object.defineProperty(target, key, { value, writable: true, configurable: true }); },
  });
};
for (const key of ${JSON.stringify(LAZY_GLOBALS)}) watch(globalThis, key, key);
watch(Deno, "Command", "Deno.Command");
await import(${JSON.stringify(new URL("../src/runtime/worker_bundle.js", import.meta.url).href)});
self.postMessage({ reads });
`;

Deno.test("worker bundle: loading it reads none of the globals Deno loads on first read", async () => {
  await using tmp = await tempPlugins({ "probe.js": READS_PROBE });
  const worker = new Worker(new URL(`file://${tmp.dir}/probe.js`), { type: "module" });
  try {
    const { reads } = await new Promise<{ reads: string[] }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => (e.preventDefault(), reject(new Error(e.message)));
    });
    assert.deepEqual(reads, [], `the worker's code read ${reads.join(", ")} while it loaded`);
  } finally {
    worker.terminate();
  }
});
