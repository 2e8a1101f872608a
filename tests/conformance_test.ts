/**
 * One conformance suite run against every plugin in plugins/: it loads (with
 * its dependencies), serves its parameterless GET routes without a server
 * error, reloads, and unloads clean.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createTestHost } from "../testing.ts";

const PLUGINS = new URL("../plugins", import.meta.url).pathname;
const ENV = { NOTIFIER_WEBHOOK_URL: "http://127.0.0.1:9/alerts" };

const folders = [...Deno.readDirSync(PLUGINS)]
  .filter((e) => e.isDirectory && !e.name.startsWith(".") && !e.name.startsWith("_"))
  .map((e) => e.name)
  .sort();

for (const folder of folders) {
  for (const isolation of ["none", "worker"] as const) {
    Deno.test(`conformance (isolation: ${isolation}): plugins/${folder} loads, serves, reloads and unloads clean`, () =>
      conform(folder, isolation));
  }
}

async function conform(folder: string, isolation: "none" | "worker") {
  const path = join(PLUGINS, folder, "mod.ts");
  const { default: def } = await import(path);
  const deps = Object.keys(def.dependencies ?? {}).map((d) => join(PLUGINS, d, "mod.ts"));
  await using t = await createTestHost({ plugin: path, with: deps, env: ENV, isolation });
  assert.equal(t.info().state, "active");
  assert.equal(t.info().isolation, isolation === "worker" ? "worker" : "in-process");
  assert.ok(t.info().description, "has a description");
  for (const route of t.info().routes) {
    const [method, routePath] = route.split(" ");
    if (method !== "GET" || routePath.includes(":") || routePath.includes("*")) continue;
    const res = await t.fetch(routePath);
    await res.body?.cancel();
    assert.ok(res.status < 500, `${route} answered ${res.status}`);
  }
  const reloaded = await t.reload();
  assert.equal(reloaded.state, "active");
  assert.equal(reloaded.reloads, 1);
  await t.assertUnloadsClean();
}
