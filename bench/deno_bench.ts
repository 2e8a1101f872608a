/**
 * `deno bench` versions of the event and route cases, for Deno users' usual
 * tooling. `deno task bench` (mitata, one fresh process per case) is the
 * reference run; this one runs every case in one process.
 *
 * @module
 */

import { EventEmitter as NodeEmitter } from "node:events";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import { Hono } from "hono";
import { mitt } from "./_mitt.ts";
import { createNanoEvents } from "nanoevents";
import { EventEmitter as Tseep } from "tseep";
import { createHost, EventBus } from "../mod.ts";
import { generatePlugins, PONG } from "./_fixtures.ts";

type Payload = { taskId: string; n: number };
const EVENT = "task.created";
const payload: Payload = { taskId: "t1", n: 1 };
let sink = 0;
const handler = (p: Payload) => {
  sink = (sink + p.n) & 0xffff;
};

for (const n of [1, 10]) {
  const group = `emit, ${n} listener${n === 1 ? "" : "s"}`;
  const bus = new EventBus<{ [EVENT]: Payload }>();
  const ee3 = new EventEmitter3();
  const tseep = new Tseep<{ [EVENT]: (p: Payload) => void }>();
  const mt = mitt<{ [EVENT]: Payload }>();
  const nano = createNanoEvents<{ [EVENT]: (p: Payload) => void }>();
  const node = new NodeEmitter();
  for (let i = 0; i < n; i++) {
    bus.on(EVENT, handler);
    ee3.on(EVENT, handler);
    tseep.on(EVENT, handler);
    mt.on(EVENT, handler);
    nano.on(EVENT, handler);
    node.on(EVENT, handler);
  }
  Deno.bench({ name: `plugboard EventBus (${group})`, group, baseline: true, fn: () => void bus.emit(EVENT, payload) });
  Deno.bench({ name: `eventemitter3 (${group})`, group, fn: () => void ee3.emit(EVENT, payload) });
  Deno.bench({ name: `tseep (${group})`, group, fn: () => void tseep.emit(EVENT, payload) });
  Deno.bench({ name: `mitt (${group})`, group, fn: () => void mt.emit(EVENT, payload) });
  Deno.bench({ name: `nanoevents (${group})`, group, fn: () => void nano.emit(EVENT, payload) });
  Deno.bench({ name: `node:events (${group})`, group, fn: () => void node.emit(EVENT, payload) });
}

const dir = await generatePlugins(100, 5);
const dataDir = await Deno.makeTempDir({ prefix: "plugboard-deno-bench-" });
// In-process, as the mitata route groups: 100 workers would measure worker round trips and need ~2 GB.
const host = createHost({ pluginsDir: dir, dataDir, isolation: "none", logger: { level: "silent" } });
await host.start();
const bare = new Hono();
for (let p = 0; p < 100; p++) for (let r = 0; r < 5; r++) bare.get(`/api/plugins/p${p}/r${r}`, (c) => c.text(PONG));
const request = new Request("http://localhost/api/plugins/p99/r4");
Deno.bench({
  name: "plugboard host.fetch (100 plugins x 5 routes)",
  group: "route",
  baseline: true,
  fn: async () => void await host.fetch(request),
});
Deno.bench({
  name: "bare Hono app.fetch (500 routes)",
  group: "route",
  fn: async () => void await bare.fetch(request),
});
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
  Deno.removeSync(dataDir, { recursive: true });
});
