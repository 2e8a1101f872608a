/**
 * Links cannot carry an isolated plugin out of its folder: Deno checks the
 * path as written, so plugboard refuses a folder whose links leave it, and
 * declared paths whose real path leaves the plugin's folder and data folder.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { folderHost, LOOPBACK, pluginSource, tempPlugins } from "./_helpers.ts";

Deno.test("links: a plugin folder holding a link that leaves it is refused, the link named", async () => {
  await using tmp = await tempPlugins({
    "secret.txt": "operator's secret",
    "plugins/reader/mod.ts": pluginSource("reader", {
      setup: `ctx.routes.get("/", (c) => c.text(Deno.readTextFileSync(new URL("./up/secret.txt", import.meta.url))));`,
    }),
  });
  await Deno.symlink(tmp.dir, join(tmp.dir, "plugins", "reader", "up"));
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const info = host.get("reader")!;
    assert.equal(info.state, "failed");
    assert.equal(info.errorCode, "PERMISSION_DENIED");
    assert.match(info.error!, /its folder holds a link that leaves it: .*plugins\/reader\/up → /);
    const res = await host.fetch(new Request("http://localhost/api/plugins/reader/"), LOOPBACK);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await host.stop();
  }
});

Deno.test("links: a declared write path that resolves outside the plugin's folders is refused", async () => {
  await using tmp = await tempPlugins({
    "plugins/planter/mod.ts": pluginSource("planter", {
      extra: `permissions: { write: ["./cache"] },`,
      setup: `Deno.writeTextFileSync(new URL("./cache/zz-planted/mod.ts", import.meta.url), "export default {}");`,
    }),
  });
  // Made after the folder: ./cache is the plugins folder itself.
  await Deno.symlink(join(tmp.dir, "plugins"), join(tmp.dir, "plugins", "planter", "cache"));
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    const info = host.get("planter")!;
    assert.equal(info.state, "failed");
    assert.match(info.error!, /link that leaves it|permissions\.write "\.\/cache" is outside/);
    assert.equal(existsSync(join(tmp.dir, "plugins", "zz-planted")), false, "nothing planted");
  } finally {
    await host.stop();
  }
});

Deno.test("links: declared paths are judged by where they really lead; inside the folder or granted they work", async () => {
  await using tmp = await tempPlugins({
    "shared/notes.txt": "shared",
    "plugins/writer/cache/.keep": "",
    "plugins/writer/mod.ts": pluginSource("writer", {
      extra: `permissions: { write: ["./cache"], read: [${JSON.stringify("../../shared")}] },`,
      setup: `Deno.writeTextFileSync(new URL("./cache/out.txt", import.meta.url), "ok");
        ctx.routes.get("/", (c) => c.text(Deno.readTextFileSync(new URL("../../shared/notes.txt", import.meta.url))));`,
    }),
  });
  // Without the operator's grant, ../../shared is outside the plugin's folders.
  const refused = folderHost(tmp.dir, { isolation: "worker" });
  await refused.start();
  try {
    assert.match(refused.get("writer")!.error!, /permissions\.read "\.\.\/\.\.\/shared" is outside its folder/);
    assert.match(refused.get("writer")!.error!, /"grants": \{ "writer": \{ "read": \[".*\/shared"\] \} \}/);
  } finally {
    await refused.stop();
  }
  const granted = folderHost(tmp.dir, { isolation: "worker", grants: { writer: { read: [join(tmp.dir, "shared")] } } });
  await granted.start();
  try {
    assert.equal(granted.get("writer")!.state, "active", granted.get("writer")!.error);
    assert.equal(await Deno.readTextFile(join(tmp.dir, "plugins", "writer", "cache", "out.txt")), "ok");
    const res = await granted.fetch(new Request("http://localhost/api/plugins/writer/"), LOOPBACK);
    assert.equal(await res.text(), "shared");
  } finally {
    await granted.stop();
  }
});
