/**
 * `GET /api/events`: the host's events as Server-Sent Events, names only
 * unless `?include=payload`; admin only; a slow client never holds more than
 * its bound; streams survive a plugin reload and end cleanly on shutdown.
 */

import assert from "node:assert/strict";
import { createHost, serve } from "../mod.ts";
import { EventStreams } from "../src/metrics/event_stream.ts";
import { folderHost, LOOPBACK, pluginSource, tempPlugins } from "./_helpers.ts";

const KEY = "events-test-key-0123456789abcdef";
const ADMIN = { headers: { "x-api-key": KEY } };

const TICKER = pluginSource("ticker", {
  setup:
    `ctx.routes.post("/tick", (c) => { ctx.events.emit("ticker.tick", { secret: "s3cret", n: 1 }); return c.text("ok"); });`,
});

/** Reads SSE frames from a stream until `done` says so. */
async function readFrames(
  body: ReadableStream<Uint8Array>,
  done: (frames: { event?: string; data?: string }[]) => boolean,
): Promise<{ event?: string; data?: string }[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const frames: { event?: string; data?: string }[] = [];
  while (!done(frames)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += value;
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const chunk = text.slice(0, end);
      text = text.slice(end + 2);
      const frame: { event?: string; data?: string } = {};
      for (const line of chunk.split("\n")) {
        if (line.startsWith("event: ")) frame.event = line.slice(7);
        if (line.startsWith("data: ")) frame.data = line.slice(6);
      }
      if (frame.event || frame.data) frames.push(frame);
    }
  }
  await reader.cancel();
  return frames;
}

Deno.test("events stream: admin only; names without payloads, payloads with ?include=payload", async () => {
  await using tmp = await tempPlugins({ "plugins/ticker/mod.ts": TICKER });
  const host = folderHost(tmp.dir, { apiKey: KEY });
  try {
    await host.start();
    const refused = await host.fetch(new Request("http://127.0.0.1/api/events"), LOOPBACK);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const bare = await host.fetch(new Request("http://127.0.0.1/api/events", ADMIN), LOOPBACK);
    const full = await host.fetch(new Request("http://127.0.0.1/api/events?include=payload", ADMIN), LOOPBACK);
    assert.equal(bare.headers.get("content-type"), "text/event-stream");
    const tick = await host.fetch(new Request("http://127.0.0.1/api/plugins/ticker/tick", { method: "POST" }));
    await tick.body?.cancel();
    const has = (fs: { event?: string }[]) => fs.some((f) => f.event === "ticker.tick");
    const [names, payloads] = await Promise.all([readFrames(bare.body!, has), readFrames(full.body!, has)]);
    const a = JSON.parse(names.find((f) => f.event === "ticker.tick")!.data!);
    assert.equal(a.name, "ticker.tick");
    assert.equal(a.payload, undefined, "names only by default");
    assert.ok(!JSON.stringify(names).includes("s3cret"));
    const b = JSON.parse(payloads.find((f) => f.event === "ticker.tick")!.data!);
    assert.deepEqual(b.payload, { secret: "s3cret", n: 1 });
    const post = await host.fetch(new Request("http://127.0.0.1/api/events", { ...ADMIN, method: "POST" }), LOOPBACK);
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await host.stop();
  }
});

Deno.test("events stream: survives a reload of the plugin whose events it shows", async () => {
  await using tmp = await tempPlugins({ "plugins/ticker/mod.ts": TICKER });
  const host = folderHost(tmp.dir, { apiKey: KEY, isolation: "worker" });
  try {
    await host.start();
    const res = await host.fetch(new Request("http://127.0.0.1/api/events", ADMIN), LOOPBACK);
    const reading = readFrames(res.body!, (fs) => fs.some((f) => f.event === "ticker.tick"));
    await host.reload("ticker");
    const tick = await host.fetch(new Request("http://127.0.0.1/api/plugins/ticker/tick", { method: "POST" }));
    await tick.body?.cancel();
    const frames = await reading;
    const names = frames.map((f) => f.event);
    assert.ok(names.includes("plugin.reloaded"), names.join(", "));
    assert.ok(names.indexOf("ticker.tick") > names.indexOf("plugin.reloaded"), "events of the new version arrive");
  } finally {
    await host.stop();
  }
});

Deno.test("events stream: a client that does not read holds at most its bound; it is told what it lost", async () => {
  const streams = new EventStreams({ maxQueueBytes: 4096 });
  const body = streams.open({ payloads: true });
  for (let i = 0; i < 5000; i++) streams.publish("flood.event", { i, pad: "x".repeat(200) });
  const [stats] = streams.stats();
  assert.ok(stats.queuedBytes <= 4096, `queued ${stats.queuedBytes} bytes`);
  assert.ok(stats.dropped > 4900, `dropped ${stats.dropped}`);
  const frames = await readFrames(body, (fs) => fs.some((f) => f.event === "flood.event"));
  const dropped = frames.find((f) => f.event === "dropped");
  assert.ok(dropped, "the client is told");
  assert.equal(JSON.parse(dropped.data!).count, stats.dropped);
  // The newest events are the ones kept.
  const kept = frames.filter((f) => f.event === "flood.event").map((f) => JSON.parse(f.data!).payload.i);
  assert.equal(kept.at(-1), 4999);
  assert.equal(streams.stats().length, 0, "a cancelled stream is forgotten");
  streams.close();
});

Deno.test("events stream: over a real socket, a stalled client stays within its bound", async () => {
  const host = createHost({ pluginsDir: null, apiKey: KEY, logger: { level: "silent" } });
  await host.start();
  const server = serve(host, { port: 0 });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(
      new TextEncoder().encode(
        `GET /api/events?include=payload HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${KEY}\r\n\r\n`,
      ),
    );
    // Never read from the socket: the server's writes block, then the queue fills and drops.
    const big = "y".repeat(10_000);
    for (let i = 0; i < 20_000; i++) {
      host.events.emit("flood.big" as "system.error", { i, big } as never);
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const stats = host.observability.streams.stats();
    assert.equal(stats.length, 1);
    assert.ok(stats[0].queuedBytes <= 256 * 1024, `queued ${stats[0].queuedBytes} bytes`);
    assert.ok(stats[0].dropped > 0);
    conn.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("events stream: shutdown ends open streams at once instead of waiting for them", async () => {
  const host = createHost({ pluginsDir: null, apiKey: KEY, logger: { level: "silent" } });
  await host.start();
  const server = serve(host, { port: 0, shutdownTimeout: 5000 });
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/events`, ADMIN);
  assert.equal(res.status, 200);
  const reading = res.text();
  const started = performance.now();
  await server.shutdown();
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `shutdown took ${Math.round(ms)} ms`);
  assert.match(await reading, /^: plugboard events/, "the stream ended cleanly");
  const after = host.observability.streams.open();
  assert.equal(await new Response(after).text(), ": plugboard events\n\n", "a stream opened after close ends at once");
});
