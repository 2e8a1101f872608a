/**
 * A large response of an isolated plugin is not held whole on the host: past
 * 1 MiB it crosses from the worker as a stream, read as the client reads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { folderHost, LOOPBACK, pluginSource, tempPlugins } from "./_helpers.ts";

Deno.test("bodies: a large non-streaming response crosses as a stream, pulled as the client reads", async () => {
  await using tmp = await tempPlugins({
    "plugins/big/mod.ts": pluginSource("big", {
      setup: `let pulled = 0;
        const CHUNK = 256 * 1024;
        ctx.routes.get("/big", () => { pulled = 0; return new Response(new ReadableStream({
          pull(c) { if (++pulled > 400) c.close(); else c.enqueue(new Uint8Array(CHUNK).fill(pulled % 256)); },
        }), { headers: { "content-type": "application/json" } }); });
        ctx.routes.get("/small", (c) => c.json({ ok: true }));
        ctx.routes.get("/pulled", (c) => c.json({ pulled }));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  const get = (path: string) => Promise.resolve(host.fetch(new Request(`http://localhost${path}`), LOOPBACK));
  try {
    assert.deepEqual(await (await get("/api/plugins/big/small")).json(), { ok: true }, "small bodies cross whole");
    const res = await get("/api/plugins/big/big");
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 2 * 1024 * 1024) got += (await reader.read()).value!.byteLength;
    await new Promise((r) => setTimeout(r, 100));
    const { pulled } = await (await get("/api/plugins/big/pulled")).json();
    // 100 MB if the worker had read it all before answering; here a few MB ahead of the client at most.
    assert.ok(pulled < 40, `the worker produced ${pulled} chunks of 256 KiB for a client that read 2 MiB`);
    let total = got;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    assert.equal(total, 400 * 256 * 1024, "and the whole body arrives");
  } finally {
    await host.stop();
  }
});
