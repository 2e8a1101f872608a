/**
 * `deno bench` versions of the event cases, for Deno users' usual tooling;
 * the route cases are in `deno_bench_routes.ts`. `deno task bench` (mitata,
 * one fresh process per case) is the reference run; `deno bench` runs every
 * case of a file in one isolate, one after another, so each case runs where
 * the earlier ones have already shaped V8's feedback and compiled code.
 *
 * The route cases live in a file of their own because `deno bench` gives
 * each file a fresh isolate: when they shared this one, the host they start
 * (100 plugins, before any case runs) made plugboard's emit ~2.5x tseep's
 * with one listener, against ~0.95x without it; tseep's did not change.
 *
 * Needs no permission.
 *
 * @module
 */

import { EventEmitter as NodeEmitter } from "node:events";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import { mitt } from "./_mitt.ts";
import { createNanoEvents } from "nanoevents";
import { EventEmitter as Tseep } from "tseep";
import { EventBus } from "../mod.ts";

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
