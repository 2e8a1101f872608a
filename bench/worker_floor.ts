/**
 * The floor under every call into an isolated plugin: what one round trip
 * between the host's thread and a worker costs on this machine with nothing
 * of plugboard's in the way.
 *
 * - `postMessage`: a worker that echoes each message (what plugboard's
 *   channel, `src/runtime/rpc.ts`, is built on);
 * - `Atomics`: the same round trip over a `SharedArrayBuffer`, each side
 *   waiting with `Atomics.waitAsync` and waking the other with
 *   `Atomics.notify` (a transport plugboard does not use: it would have to
 *   encode every message itself);
 * - `Hono in a worker`: the echo worker answering a Request with a Hono app,
 *   head cloned and body transferred as plugboard does, but without its
 *   channel, checks or stand-ins.
 *
 * Sequential calls, median of 15 batches of 400 after 1,000 warm-up calls.
 * Run: `deno run -A bench/worker_floor.ts`.
 *
 * @module
 */

const ECHO = `self.onmessage = (e) => self.postMessage(e.data);`;

const ATOMICS = `self.onmessage = async (e) => {
  const cells = new Int32Array(e.data);
  let seen = 0;
  for (;;) {
    const w = Atomics.waitAsync(cells, 0, seen);
    if (w.async) await w.value;
    seen = Atomics.load(cells, 0);
    if (seen < 0) return;
    Atomics.store(cells, 1, seen);
    Atomics.notify(cells, 1);
  }
};`;

const HONO = (honoUrl: string) =>
  `import { Hono } from ${JSON.stringify(honoUrl)};
const app = new Hono();
app.get("/api/plugins/hello/greet/:who", (c) => c.text("Hello, " + c.req.param("who") + "!"));
self.onmessage = async (e) => {
  const p = e.data;
  const res = await app.fetch(new Request(p.url, { method: p.method, headers: p.headers }));
  const body = await res.arrayBuffer();
  self.postMessage({ status: res.status, headers: [...res.headers], body }, [body]);
};`;

/** A worker from source text. */
function workerOf(source: string): Worker {
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  return new Worker(url, { type: "module" });
}

/**
 * The median µs of one sequential call.
 *
 * @param call one round trip
 * @returns microseconds per call
 */
async function median(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 1000; i++) await call();
  const samples: number[] = [];
  for (let b = 0; b < 15; b++) {
    const t = performance.now();
    for (let i = 0; i < 400; i++) await call();
    samples.push((performance.now() - t) * 1000 / 400);
  }
  return samples.sort((a, b) => a - b)[7];
}

/** One request/reply at a time over a worker's messages. */
function messenger(worker: Worker): (message: unknown) => Promise<unknown> {
  let resolve: (value: unknown) => void = () => {};
  worker.onmessage = (e) => resolve(e.data);
  return (message) => new Promise((r) => (resolve = r, worker.postMessage(message)));
}

/**
 * Measures the three floors.
 *
 * @returns µs per sequential round trip, by case
 */
export async function measureFloors(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const echo = workerOf(ECHO);
  const send = messenger(echo);
  out["postMessage round trip"] = await median(() => send(1));
  echo.terminate();

  const atomics = workerOf(ATOMICS);
  const cells = new Int32Array(new SharedArrayBuffer(8));
  atomics.postMessage(cells.buffer);
  let seq = 0;
  out["Atomics round trip"] = await median(async () => {
    Atomics.store(cells, 0, ++seq);
    Atomics.notify(cells, 0);
    while (Atomics.load(cells, 1) !== seq) {
      const w = Atomics.waitAsync(cells, 1, Atomics.load(cells, 1));
      if (w.async) await w.value;
    }
  });
  Atomics.store(cells, 0, -1);
  Atomics.notify(cells, 0);
  atomics.terminate();

  const hono = workerOf(HONO(import.meta.resolve("hono")));
  const ask = messenger(hono);
  const request = new Request("http://localhost/api/plugins/hello/greet/bench");
  out["Hono route in a worker, bare"] = await median(async () => {
    const wire = await ask({ url: request.url, method: request.method, headers: [...request.headers] }) as {
      status: number;
      headers: [string, string][];
      body: ArrayBuffer;
    };
    await new Response(wire.body, { status: wire.status, headers: wire.headers }).text();
  });
  hono.terminate();
  return out;
}

if (import.meta.main) {
  for (const [name, us] of Object.entries(await measureFloors())) {
    console.log(`${name.padEnd(32)} ${us.toFixed(1).padStart(7)} µs`);
  }
}
