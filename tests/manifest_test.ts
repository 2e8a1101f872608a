import assert from "node:assert/strict";
import { z } from "zod";
import { definePlugin, Plugin, type PluginContext, PluginError } from "../mod.ts";
import { normalizePlugin } from "../src/manifest.ts";

const ok = { name: "hello", version: "1.0.0", setup() {} };

function invalid(mod: Record<string, unknown>): PluginError {
  try {
    normalizePlugin(mod, "/p/mod.ts", "folder");
  } catch (e) {
    assert.ok(e instanceof PluginError);
    return e;
  }
  throw new Error("expected a failure");
}

Deno.test("a plain default-export object is a valid plugin", () => {
  const p = normalizePlugin({ default: ok }, "/p/mod.ts", "folder");
  assert.equal(p.meta.name, "hello");
  assert.deepEqual(p.meta.dependencies, {});
});

Deno.test("bad names, versions and ranges are reported with zod's issues and the source", () => {
  const e = invalid({ default: { name: "Bad_Name", version: "1.0", dependencies: { tasks: "latest" }, setup() {} } });
  assert.equal(e.code, "INVALID_PLUGIN");
  assert.equal(e.source, "/p/mod.ts");
  assert.match(e.message, /^Cannot load plugin "Bad_Name" from \/p\/mod.ts: invalid manifest: /);
  assert.match(e.message, /name: must be lowercase kebab-case/);
  assert.match(e.message, /version: must be a semantic version/);
  assert.match(e.message, /dependencies.tasks: must be a semver range/);
});

Deno.test("a missing setup, a non-schema config and a missing default export are refused", () => {
  assert.match(invalid({ default: { name: "a", version: "1.0.0" } }).message, /setup: setup must be a function/);
  assert.match(invalid({ default: { ...ok, config: { parse() {} } } }).message, /config: must be a zod/);
  const e = invalid({ named: ok });
  assert.match(e.message, /^Cannot load plugin "folder" from \/p\/mod.ts: the module has no default export/);
  assert.match(invalid({ default: 42 }).message, /must be a plugin object or a Plugin subclass, got number/);
});

Deno.test("a Plugin subclass is run through load/unload, and its service is exposed", async () => {
  class Counter extends Plugin<{ step: number }> {
    info = { name: "counter", version: "2.0.0", description: "counts" };
    override configSchema = z.object({ step: z.number().default(1) });
    unloaded = false;
    load(_ctx: PluginContext<{ step: number }>) {}
    override unload() {
      this.unloaded = true;
    }
    override getService() {
      return { kind: "counter" };
    }
  }
  const p = normalizePlugin({ default: Counter }, "/c.ts", "c");
  assert.equal(p.meta.name, "counter");
  assert.equal(p.meta.description, "counts");
  assert.ok(p.config);
  assert.deepEqual(p.service?.(), { kind: "counter" });
  await p.setup({} as PluginContext<unknown>);
  assert.ok(p.teardown);
});

Deno.test("a class whose constructor throws is reported", () => {
  class Broken extends Plugin {
    info = { name: "broken", version: "1.0.0" };
    constructor() {
      super();
      throw new Error("nope");
    }
    load() {}
  }
  assert.match(invalid({ default: Broken }).message, /its constructor threw: nope/);
});

Deno.test("definePlugin() checks setup and returns the definition", () => {
  const def = { ...ok };
  assert.equal(definePlugin(def), def);
  assert.throws(() => definePlugin({ name: "x", version: "1.0.0" } as never), {
    name: "TypeError",
    message: 'Cannot define plugin "x": "setup" must be a function, got undefined',
  });
});

Deno.test("oversized manifest lists are refused whole, and a message lists at most ten issues", () => {
  const many = Array.from({ length: 300 }, (_, i) => `ev${i}.x`);
  const e = invalid({ default: { ...ok, emits: many, permissions: { env: Array(1000).fill("A") } } });
  assert.match(e.message, /invalid manifest: emits: at most 256 entries, got 300; permissions\.env: at most 256/);
  assert.ok(e.message.length < 400, `a short message, got ${e.message.length} characters`);
  const bad = invalid({ default: { ...ok, emits: Array.from({ length: 40 }, () => "Not An Event") } });
  assert.match(bad.message, /emits\.9: must be an event name.*; and 30 more$/);
  assert.equal(bad.message.match(/must be an event name/g)?.length, 10);
});
