import assert from "node:assert/strict";
import { join } from "node:path";
import { scaffoldPlugin } from "../scripts/new_plugin.ts";
import { denoCommand, quietHost, tempPlugins } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url);

Deno.test("deno task new scaffolds a plugin that loads and whose test passes", async () => {
  await using tmp = await tempPlugins();
  const files = await scaffoldPlugin(tmp.dir, "my-plugin", { base: ROOT.href });
  assert.deepEqual(files.map((f) => f.slice(tmp.dir.length + 1)).sort(), [
    "my-plugin/README.md",
    "my-plugin/config.json.example",
    "my-plugin/mod.ts",
    "my-plugin/mod_test.ts",
  ]);
  const host = quietHost({ pluginsDir: tmp.dir });
  await host.start();
  assert.equal(host.get("my-plugin")?.state, "active");
  await host.stop();
  const out = await denoCommand("test", [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    join(tmp.dir, "my-plugin/mod_test.ts"),
  ])
    .output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /ok \| 1 passed \| 0 failed/);
});

Deno.test("deno task new refuses a bad name or an existing folder", async () => {
  await using tmp = await tempPlugins({ "taken/mod.ts": "" });
  await assert.rejects(scaffoldPlugin(tmp.dir, "Bad Name"), /must be lowercase kebab-case/);
  await assert.rejects(scaffoldPlugin(tmp.dir, "taken"), /already exists/);
});
