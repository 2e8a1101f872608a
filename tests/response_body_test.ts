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

Deno.test("bodies: bytes, headers and status cross intact at every size, copied or transferred", async () => {
  await using tmp = await tempPlugins({
    "plugins/bytes/mod.ts": pluginSource("bytes", {
      setup: `ctx.routes.get("/b/:n", (c) => {
          const n = Number(c.req.param("n"));
          const body = new Uint8Array(n).map((_, i) => (i * 7) % 256);
          const headers = new Headers({ "content-type": "application/octet-stream", "x-n": String(n) });
          headers.append("set-cookie", "a=1");
          headers.append("set-cookie", "b=2");
          return new Response(body, { status: 203, statusText: "Mine", headers });
        });
        ctx.routes.get("/echo", (c) => c.json({ headers: [...c.req.raw.headers], method: c.req.method }));`,
    }),
  });
  const host = folderHost(tmp.dir, { isolation: "worker" });
  await host.start();
  try {
    // Either side of the size below which a body is copied with the message (64 KiB), and past the stream's (1 MiB).
    for (const n of [0, 10, 64 * 1024, 64 * 1024 + 1, 500 * 1024, 1024 * 1024 + 3]) {
      const res = await host.fetch(new Request(`http://localhost/api/plugins/bytes/b/${n}`), LOOPBACK);
      assert.equal(res.status, 203);
      assert.equal(res.statusText, "Mine");
      assert.equal(res.headers.get("content-type"), "application/octet-stream", `content type at ${n} bytes`);
      assert.equal(res.headers.get("x-n"), String(n));
      assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.match(res.headers.get("content-security-policy") ?? "", /^sandbox /);
      const got = new Uint8Array(await res.arrayBuffer());
      assert.equal(got.byteLength, n);
      assert.ok(got.every((v, i) => v === (i * 7) % 256), `the bytes of a ${n}-byte body`);
    }
    const sent = new Request("http://localhost/api/plugins/bytes/echo", {
      headers: [["x-one", "1"], ["x-two", "2"], ["accept", "a/b"], ["accept", "c/d"]],
    });
    const { headers, method } = await (await host.fetch(sent, LOOPBACK)).json();
    assert.equal(method, "GET");
    const seen = Object.fromEntries(headers);
    assert.equal(seen["x-one"], "1");
    assert.equal(seen["x-two"], "2");
    assert.equal(seen.accept, "a/b, c/d");
  } finally {
    await host.stop();
  }
});

for (const tier of ["worker", "sandboxed"] as const) {
  Deno.test(`bodies: a request body reaches a plugin ${tier} whole, read on the host or streamed`, async () => {
    await using tmp = await tempPlugins({
      "plugins/up/mod.ts": pluginSource("up", {
        setup: `ctx.routes.post("/sum", async (c) => {
          const bytes = new Uint8Array(await c.req.arrayBuffer());
          let sum = 0;
          for (const b of bytes) sum = (sum + b) % 1000003;
          return c.json({ size: bytes.byteLength, sum });
        });
        ctx.routes.post("/json", async (c) => c.json(await c.req.json()));`,
      }),
    });
    const host = folderHost(tmp.dir, {
      isolation: "worker",
      sandboxed: tier === "sandboxed" ? ["up"] : [],
      limits: { up: { bodyLimit: 8 * 1024 * 1024 } },
    });
    await host.start();
    const post = async (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
      await (await host.fetch(
        new Request(`http://localhost/api/plugins/up/${path}`, { method: "POST", body, headers }),
        LOOPBACK,
      )).json();
    const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 13 + 5) % 256);
    const sumOf = (b: Uint8Array) => b.reduce((s, v) => (s + v) % 1000003, 0);
    try {
      const json = { title: "a task", tags: ["x", "é"] };
      const text = JSON.stringify(json);
      const length = String(new TextEncoder().encode(text).byteLength);
      assert.deepEqual(
        await post("json", text, { "content-type": "application/json", "content-length": length }),
        json,
      );
      for (const n of [1, 64 * 1024, 64 * 1024 + 1, 2 * 1024 * 1024]) {
        const b = bytes(n);
        // With its length told (read on the host when small), and without (streamed).
        assert.deepEqual(
          await post("sum", b, { "content-length": String(n) }),
          { size: n, sum: sumOf(b) },
          `${n} told`,
        );
        assert.deepEqual(await post("sum", b), { size: n, sum: sumOf(b) }, `${n} streamed`);
      }
      // A length told wrong by the application's own request: every byte still arrives.
      const b = bytes(300 * 1024);
      assert.deepEqual(await post("sum", b, { "content-length": "10" }), { size: b.byteLength, sum: sumOf(b) });
    } finally {
      await host.stop();
    }
  });
}
