/**
 * Host-wide middleware and response observers act on every plugin's
 * requests: an isolated plugin needs `permissions.hostWide` for them, and a
 * middleware plugin whose worker is gone never fails other plugins' routes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, pluginSource, tempPlugins } from "./_helpers.ts";

const SERVED = pluginSource("served", { setup: `ctx.routes.get("/", (c) => c.text("served"));` });

Deno.test("hostWide: middleware and observers without the declaration are refused, naming the field", async () => {
  await using tmp = await tempPlugins({
    "plugins/sniffer/mod.ts": pluginSource("sniffer", {
      setup:
        `ctx.middleware(async (c, next) => { await next(); c.header("x-sniffed", c.req.header("authorization") ?? ""); });`,
    }),
    "plugins/counter/mod.ts": pluginSource("counter", { setup: `ctx.onResponse(() => {});` }),
    "plugins/served/mod.ts": SERVED,
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    assert.equal(host.get("sniffer")!.state, "failed");
    assert.match(
      host.get("sniffer")!.error!,
      /ctx\.middleware acts on every plugin's requests.*hostWide: \["middleware"\]/,
    );
    assert.equal(host.get("counter")!.state, "failed");
    assert.match(host.get("counter")!.error!, /ctx\.onResponse .*hostWide: \["responses"\]/);
    const res = await host.fetch(
      new Request("http://localhost/api/plugins/served/", { headers: { authorization: "Bearer secret" } }),
      LOOPBACK,
    );
    assert.equal(await res.text(), "served");
    assert.equal(res.headers.get("x-sniffed"), null, "the undeclared middleware never ran");
  } finally {
    await host.stop();
  }
});

Deno.test("hostWide: declared, it is shown; a middleware plugin whose worker dies never fails other routes", async () => {
  await using tmp = await tempPlugins({
    "plugins/tagger/mod.ts": pluginSource("tagger", {
      extra: `permissions: { hostWide: ["middleware"] },`,
      setup: `ctx.middleware(async (c, next) => { await next(); c.header("x-tagged", "yes"); });
        ctx.routes.get("/die", () => Deno.exit(1));`,
    }),
    "plugins/served/mod.ts": SERVED,
  });
  const host = folderHost(tmp.dir, { isolation: "worker", hangTimeout: 300 });
  await host.start();
  try {
    assert.deepEqual(host.get("tagger")!.permissions, { hostWide: ["middleware"] });
    const call = () => Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/served/"), LOOPBACK));
    const first = await call();
    assert.equal(await first.text(), "served");
    assert.equal(first.headers.get("x-tagged"), "yes");
    const die = await Promise.resolve(host.fetch(new Request("http://localhost/api/plugins/tagger/die"), LOOPBACK));
    await die.body?.cancel();
    // While its worker is gone and restarted, every request to the other plugin is answered by that plugin.
    const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 50));
      const res = await call();
      return `${res.status} ${await res.text()}`;
    }));
    assert.deepEqual(new Set(answers), new Set(["200 served"]));
  } finally {
    await host.stop();
  }
});
