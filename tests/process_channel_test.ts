/**
 * A sandboxed plugin's channel, attacked from the plugin's side: it can
 * write any bytes to its stdout (`node:fs.writeSync(1, ...)`), so every
 * frame is checked on the host. Forged stream places cannot reach a
 * prototype or open streams without bound, chunks nobody pulled break the
 * channel, and a batch longer than any sender makes is refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FrameChannel } from "../src/runtime/process_channel.ts";
import { encodeFrame, FrameReader, FrameType } from "../src/runtime/process_frames.ts";
import { MAX_BATCH, Rpc } from "../src/runtime/rpc.ts";

const encoder = new TextEncoder();

/** A host-side channel, and a writer for raw bytes from the "plugin". */
function rig() {
  const toHost = new TransformStream<Uint8Array, Uint8Array>();
  const fromHost = new TransformStream<Uint8Array, Uint8Array>();
  const channel = new FrameChannel(toHost.readable, fromHost.writable);
  const messages: unknown[] = [];
  channel.onmessage = (m) => void messages.push(m);
  const closed = new Promise<string | undefined>((resolve) => channel.onclose = resolve);
  const raw = toHost.writable.getWriter();
  const pulls = fromHost.readable.getReader();
  return {
    channel,
    messages,
    closed,
    send: (type: number, stream: number, body: Uint8Array) => raw.write(encodeFrame(type as 1, stream, body)),
    json: (stream: number, value: unknown) =>
      raw.write(encodeFrame(FrameType.json, stream, encoder.encode(JSON.stringify(value)))),
    close() {
      channel.close();
      raw.close().catch(() => {});
      pulls.cancel().catch(() => {});
    },
  };
}

Deno.test("channel: a stream place through constructor.prototype breaks the channel, and no prototype changes", async () => {
  for (const path of [["constructor", "prototype", "polluted"], ["__proto__", "polluted"], ["a", "constructor", "x"]]) {
    const r = rig();
    await r.json(1, { m: { a: {} }, s: [[path, 1]] });
    const reason = await r.closed;
    assert.match(reason ?? "", /stream place outside the message/, `path ${path.join(".")}`);
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
    assert.equal(typeof ({} as { toString: unknown }).toString, "function");
    assert.equal(r.messages.length, 0);
    r.close();
  }
});

Deno.test("channel: too many stream places, reused ids, or places outside the message break the channel", async () => {
  const cases: [unknown, RegExp][] = [
    [{ m: {}, s: Array.from({ length: 300 }, (_, i) => [["k" + i], i + 1]) }, /1 to 8 stream places/],
    [{ m: { a: null }, s: [[["a", "b", "c"], 1]] }, /outside the message/],
    [{ m: {}, s: [[["x"], 0]] }, /not new/],
    [{ m: {}, s: [[Array.from({ length: 20 }, () => "x"), 1]] }, /a bad stream place/],
    [{ m: {} }, /1 to 8 stream places/],
  ];
  for (const [message, why] of cases) {
    const r = rig();
    await r.json(1, message);
    assert.match((await r.closed) ?? "", why);
    r.close();
  }
  // Ids only grow: the same id twice (in two messages) is refused the second time.
  const r = rig();
  await r.json(1, { m: {}, s: [[["body"], 5]] });
  await r.json(1, { m: {}, s: [[["body"], 5]] });
  assert.match((await r.closed) ?? "", /not new/);
  assert.equal(r.messages.length, 1);
  r.close();
});

Deno.test("channel: a chunk nobody pulled breaks the channel (no buffering past backpressure)", async () => {
  const r = rig();
  await r.json(1, { m: {}, s: [[["body"], 1]] });
  // The reader pulls once (the stream's high-water mark); a second chunk before the next pull is not honest.
  await r.send(FrameType.chunk, 1, new Uint8Array(10));
  await r.send(FrameType.chunk, 1, new Uint8Array(10));
  assert.match((await r.closed) ?? "", /a chunk of stream 1 that was not pulled/);
  r.close();
});

Deno.test("channel: a body larger than a frame crosses whole, one frame per pull", async () => {
  const a2b = new TransformStream<Uint8Array, Uint8Array>();
  const b2a = new TransformStream<Uint8Array, Uint8Array>();
  const a = new FrameChannel(b2a.readable, a2b.writable);
  const b = new FrameChannel(a2b.readable, b2a.writable);
  const got = new Promise<{ body: ReadableStream }>((resolve) =>
    b.onmessage = (m) => resolve(m as { body: ReadableStream })
  );
  const bytes = new Uint8Array(1_000_000).map((_, i) => i % 251);
  const body = new Blob([bytes]).stream();
  a.post({ body }, [body]);
  const received = new Uint8Array(await new Response((await got).body).arrayBuffer());
  assert.equal(received.byteLength, bytes.byteLength);
  assert.deepEqual(received.subarray(999_000), bytes.subarray(999_000));
  a.close();
  b.close();
});

Deno.test("FrameReader: frames split at any byte come out whole, and a frame over the cap is refused", () => {
  const frames = [
    encodeFrame(FrameType.json, 0, encoder.encode('{"a":1}')),
    encodeFrame(FrameType.pull, 7, new Uint8Array(0)),
    encodeFrame(FrameType.chunk, 7, new Uint8Array(5000).fill(3)),
  ];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const f of frames) all.set(f, (at += f.byteLength) - f.byteLength);
  for (const piece of [1, 2, 9, 10, 4096]) {
    const reader = new FrameReader();
    const out = [];
    for (let i = 0; i < all.byteLength; i += piece) out.push(...reader.push(all.subarray(i, i + piece)));
    assert.deepEqual(out.map((f) => [f.type, f.stream, f.body.byteLength]), [[1, 0, 7], [6, 7, 0], [3, 7, 5000]]);
  }
  const huge = new Uint8Array(9);
  new DataView(huge.buffer).setUint8(0, FrameType.v8);
  new DataView(huge.buffer).setUint32(5, 0xffff_ffff);
  assert.throws(() => new FrameReader().push(huge), /over 16777216/);
});

Deno.test("Rpc: a batch longer than any sender makes (a sparse array of length 1e9) is refused at once", () => {
  const rpc = new Rpc({ postMessage() {} }, {});
  const sparse: unknown[] = [];
  sparse.length = 1e9;
  const t = performance.now();
  assert.equal(rpc.receive(sparse), false);
  assert.ok(performance.now() - t < 1000, "it did not walk the array");
  assert.equal(rpc.receive(new Array(MAX_BATCH).fill([1, "x", null])), true);
});

Deno.test("Rpc: bytes cross without a trial clone, and a detached buffer fails its own call at once", async () => {
  const { port1, port2 } = new MessageChannel();
  const a = new Rpc(port1, {});
  const b = new Rpc(port2, { size: (p: { body: ArrayBuffer }) => p.body.byteLength });
  port1.onmessage = (e) => a.receive(e.data);
  port2.onmessage = (e) => b.receive(e.data);
  try {
    assert.equal(await a.call("size", { body: new Uint8Array(5).buffer }), 5);
    const gone = new Uint8Array(3).buffer;
    structuredClone(gone, { transfer: [gone] });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, reject) => timer = setTimeout(() => reject(new Error("never settled")), 2000));
    await assert.rejects(Promise.race([a.call("size", { body: gone }), late]), { name: "DataCloneError" });
    clearTimeout(timer);
    assert.equal(await a.call("size", { body: new Uint8Array(7).buffer }), 7, "the channel still works");
  } finally {
    port1.close();
    port2.close();
  }
});

Deno.test("Rpc: a call sent as a note fails where nobody waits, without an unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    unhandled.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    let ran = 0;
    const rpc = new Rpc({ postMessage() {} }, {
      fails: () => (ran++, Promise.reject(new Error("nobody waits for me"))),
      throws: () => {
        ran++;
        throw new Error("thrown at once");
      },
    });
    assert.equal(rpc.receive([1, "fails", null]), true);
    assert.equal(rpc.receive([[1, "throws", null], [1, "__proto__", null], [1, "constructor", null]]), true);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(ran, 2);
    assert.deepEqual(unhandled, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});

Deno.test("Rpc: a batch that cannot be posted fails its calls at once, not at their deadline", async () => {
  let posts = 0;
  const rpc = new Rpc({
    postMessage() {
      posts++;
      throw new DOMException("the receiver is gone", "DataCloneError");
    },
  }, {});
  const [a, b] = [rpc.call("one", 1), rpc.call("two", 2)];
  await assert.rejects(a, /the receiver is gone/);
  await assert.rejects(b, /the receiver is gone/);
  assert.equal(posts, 1, "one batch");
  assert.equal(rpc.pending, 0);
});

Deno.test("Rpc: a reply settles the call waiting under its id, an id is reused once replied, any other reply is ignored", async () => {
  const posted: unknown[][] = [];
  const rpc = new Rpc({
    postMessage(message) {
      const list = message as unknown[];
      posted.push(...(typeof list[0] === "number" ? [list] : list as unknown[][]));
    },
  }, {});
  const turn = () => new Promise((r) => setTimeout(r, 0));
  const [a, b, c] = [rpc.call("a"), rpc.call("b"), rpc.call("c")];
  await turn();
  const ids = posted.map((m) => m[1] as number);
  assert.equal(new Set(ids).size, 3);
  assert.equal(rpc.pending, 3);
  rpc.receive([2, ids[1], "B"]);
  // Ids no call waits on, as a dishonest other side might send them: none settles anything.
  for (const id of [String(ids[0]), -1, 1.5, NaN, null, "constructor", "__proto__", "length", 10_000]) {
    rpc.receive([2, id, "forged"]);
  }
  assert.equal(await b, "B");
  assert.equal(rpc.pending, 2);
  // Answered twice: the second settles nothing, and the id's next call is not answered by it.
  rpc.receive([2, ids[1], "again"]);
  assert.equal(rpc.pending, 2);
  const d = rpc.call("d");
  await turn();
  assert.equal(posted.at(-1)![1], ids[1], "the answered call's id is reused");
  rpc.receive([3, ids[0], { name: "Error", message: "no" }]);
  await assert.rejects(a, /no/);
  rpc.receive([2, ids[1], "D"]);
  assert.equal(await d, "D");
  rpc.close(new Error("closed"));
  await assert.rejects(c, /closed/);
  assert.equal(rpc.pending, 0);
  await assert.rejects(rpc.call("e"), /closed/);
});
