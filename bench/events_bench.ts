/**
 * Event dispatch: plugboard's EventBus against the emitters users would pick
 * instead, with 0, 1, 10 and 100 listeners, the same payload and the same
 * handler (whose work is kept observable).
 *
 * @module
 */

import { EventEmitter as NodeEmitter } from "node:events";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import { do_not_optimize } from "mitata";
import { mitt } from "./_mitt.ts";
import { createNanoEvents } from "nanoevents";
import { EventEmitter as Tseep } from "tseep";
import { EventBus } from "../mod.ts";
import type { BenchFn, BenchGroup } from "./_runner.ts";

type Payload = { taskId: string; n: number };
type Events = { "task.created": Payload };
const EVENT = "task.created";
const payload: Payload = { taskId: "t1", n: 1 };

let sink = 0;
const handler = (p: Payload) => {
  // Masked so the counter stays a small integer: an overflowing one would make every add allocate.
  sink = (sink + p.n) & 0xffff;
};
const observe = (emit: () => unknown): BenchFn => () => {
  emit();
  do_not_optimize(sink);
};

/** Each contender: build an emitter with `n` listeners, return its emit. */
const contenders: Record<string, (n: number) => BenchFn> = {
  "plugboard EventBus": (n) => {
    const bus = new EventBus<Events>();
    for (let i = 0; i < n; i++) bus.on(EVENT, handler);
    return observe(() => bus.emit(EVENT, payload));
  },
  "eventemitter3": (n) => {
    const ee = new EventEmitter3();
    for (let i = 0; i < n; i++) ee.on(EVENT, handler);
    return observe(() => ee.emit(EVENT, payload));
  },
  "tseep": (n) => {
    const ee = new Tseep<{ [EVENT]: (p: Payload) => void }>();
    for (let i = 0; i < n; i++) ee.on(EVENT, handler);
    return observe(() => ee.emit(EVENT, payload));
  },
  "mitt": (n) => {
    const ee = mitt<Events>();
    for (let i = 0; i < n; i++) ee.on(EVENT, handler);
    return observe(() => ee.emit(EVENT, payload));
  },
  "nanoevents": (n) => {
    const ee = createNanoEvents<{ [EVENT]: (p: Payload) => void }>();
    for (let i = 0; i < n; i++) ee.on(EVENT, handler);
    return observe(() => ee.emit(EVENT, payload));
  },
  "node:events EventEmitter": (n) => {
    const ee = new NodeEmitter();
    ee.setMaxListeners(1000);
    for (let i = 0; i < n; i++) ee.on(EVENT, handler);
    return observe(() => ee.emit(EVENT, payload));
  },
  "EventTarget": (n) => {
    const et = new EventTarget();
    for (let i = 0; i < n; i++) {
      et.addEventListener(EVENT, (e) => handler((e as CustomEvent<Payload>).detail));
    }
    return observe(() => et.dispatchEvent(new CustomEvent(EVENT, { detail: payload })));
  },
};

/** An unguarded loop over the same handlers: the cost floor without error isolation. */
function unguarded(n: number): BenchFn {
  const list = Array.from({ length: n }, () => handler);
  return observe(() => {
    for (let i = 0; i < list.length; i++) list[i](payload);
  });
}

/** Listener counts measured. */
export const LISTENER_COUNTS = [0, 1, 10, 100] as const;

/** The event groups. */
export const groups: Record<string, BenchGroup> = {};
for (const n of LISTENER_COUNTS) {
  groups[`emit, ${n} listener${n === 1 ? "" : "s"}`] = {
    ours: "plugboard EventBus",
    cases: Object.fromEntries(Object.entries(contenders).map(([name, make]) => [name, () => make(n)])),
  };
}
groups["isolation cost, 10 listeners"] = {
  ours: "plugboard EventBus",
  cases: {
    "plugboard EventBus": () => contenders["plugboard EventBus"](10),
    "unguarded loop (no isolation)": () => unguarded(10),
  },
};
