import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { ConfigError, Logger, PluginError } from "../mod.ts";
import { PluginLoader } from "../src/loader.ts";
import { resolveHostOptions } from "../src/options.ts";
import { InProcessRuntime } from "../src/runtime/in_process.ts";
import { tempPlugins } from "./_helpers.ts";

const GREETER = `import { z } from "zod";
globalThis.__loaderTestEvaluations = (globalThis.__loaderTestEvaluations ?? 0) + 1;
export default {
  name: "greeter",
  version: "1.2.0",
  config: z.object({ greeting: z.string(), url: z.string(), retries: z.number().default(3) }),
  setup() {},
};
`;

function loader(
  dir: string,
  options: { config?: Record<string, Record<string, unknown>>; env?: Record<string, string> } = {},
) {
  const resolved = resolveHostOptions({
    pluginsDir: dir,
    config: options.config,
    env: (name) => options.env?.[name],
    logger: { level: "silent" },
  });
  return new PluginLoader(resolved, { inProcess: new InProcessRuntime() }, new Logger("test", { level: "silent" }));
}

Deno.test("prepare() merges config.json with the host's overrides, substitutes ${VAR} and applies the schema", async () => {
  await using tmp = await tempPlugins({
    "greeter/mod.ts": GREETER,
    "greeter/config.json": JSON.stringify({ greeting: "hello", url: "${HOOK_URL}/alerts" }),
  });
  const prepared = await loader(tmp.dir, { config: { greeter: { greeting: "hi" } }, env: { HOOK_URL: "http://h" } })
    .prepare(join(tmp.dir, "greeter/mod.ts"), "greeter");
  assert.deepEqual(prepared.config, { greeting: "hi", url: "http://h/alerts", retries: 3 });
  assert.equal(prepared.enabled, true);
  assert.equal(prepared.version.manifest.name, "greeter");
  assert.equal(prepared.isolation, "in-process");
  assert.equal(prepared.snapshot, undefined);
});

Deno.test("an invalid config field is a ConfigError naming the file and the field, carrying the manifest", async () => {
  await using tmp = await tempPlugins({
    "greeter/mod.ts": GREETER,
    "greeter/config.json": JSON.stringify({ greeting: "hello", url: "u", retries: "three" }),
  });
  await assert.rejects(loader(tmp.dir).prepare(join(tmp.dir, "greeter/mod.ts"), "greeter"), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.field, "retries");
    assert.equal(err.file, join(tmp.dir, "greeter/config.json"));
    assert.match(err.message, /^Cannot load plugin "greeter": .*greeter\/config\.json field "retries" is invalid/);
    assert.equal(err.manifest?.name, "greeter");
    assert.equal(err.manifest?.version, "1.2.0");
    return true;
  });
});

Deno.test("a module that fails to import is refused without a manifest", async () => {
  await using tmp = await tempPlugins({ "broken/mod.ts": "export default {;" });
  await assert.rejects(loader(tmp.dir).prepare(join(tmp.dir, "broken/mod.ts"), "broken"), (err: unknown) => {
    assert.ok(err instanceof PluginError);
    assert.equal(err.code, "IMPORT_FAILED");
    assert.equal(err.plugin, "broken");
    assert.equal(err.manifest, undefined);
    return true;
  });
});

Deno.test("importing a source again evaluates a fresh snapshot copy of its folder", async () => {
  await using tmp = await tempPlugins({
    "greeter/mod.ts": GREETER,
    "greeter/config.json": JSON.stringify({ greeting: "hello", url: "u" }),
  });
  const g = globalThis as { __loaderTestEvaluations?: number };
  const l = loader(tmp.dir);
  const entry = join(tmp.dir, "greeter/mod.ts");
  const first = await l.prepare(entry, "greeter");
  const evaluated = g.__loaderTestEvaluations ?? 0;
  assert.equal(first.snapshot, undefined);
  await tmp.write("greeter/config.json", JSON.stringify({ greeting: "changed", url: "u" }));
  const second = await l.prepare(entry, "greeter");
  assert.ok(second.snapshot, "a snapshot folder");
  assert.equal(dirname(second.snapshot), tmp.dir);
  assert.match(basename(second.snapshot), /^\.greeter@\d+$/);
  assert.equal(g.__loaderTestEvaluations, evaluated + 1, "the module was evaluated again");
  assert.deepEqual(
    second.config,
    { greeting: "changed", url: "u", retries: 3 },
    "config is read from the original folder",
  );
  assert.equal((await Deno.stat(join(second.snapshot, "mod.ts"))).isFile, true);
});

Deno.test("a refused re-import removes its snapshot copy", async () => {
  await using tmp = await tempPlugins({
    "greeter/mod.ts": GREETER,
    "greeter/config.json": JSON.stringify({ greeting: "hello", url: "u" }),
  });
  const l = loader(tmp.dir);
  const entry = join(tmp.dir, "greeter/mod.ts");
  await l.prepare(entry, "greeter");
  await tmp.write("greeter/config.json", JSON.stringify({ url: "u" }));
  await assert.rejects(l.prepare(entry, "greeter"), ConfigError);
  const left = [];
  for await (const e of Deno.readDir(tmp.dir)) left.push(e.name);
  assert.deepEqual(left, ["greeter"]);
});
