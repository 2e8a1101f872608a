/**
 * Event dispatch: plugboard's EventBus against the emitters users would pick
 * instead, one contender per process.
 *
 * Two kinds of groups:
 * - "n listeners": the same handler function registered n times (the
 *   historical figure). V8 inlines one function at every call site, so this
 *   is the easy case.
 * - "n distinct listeners": n different handler functions, as n plugins
 *   would register, with 1, 10 and 100 listeners and with a wildcard mixed
 *   in. These are also measured across fresh processes with no warm-up
 *   (`runStandalone`, `bench/_fresh.ts`), min / median / max.
 *
 * Run alone: `deno run -A bench/events_bench.ts [--fresh-only | --warm-only] [--runs 20] [--peers tseep] [--filter distinct]`.
 *
 * @module
 */

import { EventEmitter as NodeEmitter } from "node:events";
import { parseArgs } from "node:util";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import { do_not_optimize } from "mitata";
import { mitt } from "./_mitt.ts";
import { createNanoEvents } from "nanoevents";
import { EventEmitter as Tseep } from "tseep";
// From its own module rather than mod.ts (the same class): the host's modules are not needed here, and loading them
// costs every measuring process ~0.15 s.
import { EventBus } from "../src/events.ts";
import { type BenchFn, type BenchGroup, type CaseResult, type GroupResult, runModule } from "./_runner.ts";
import { measureSpread, type Spread, spreadTable } from "./_fresh.ts";
import { effort, effortList } from "./_effort.ts";

type Payload = { taskId: string; agentId: string; n: number };
type Events = { "task.created": Payload };
const EVENT = "task.created";
const payload: Payload = { taskId: "t1", agentId: "a1", n: 1 };
const OURS = "plugboard EventBus";

/** Where every handler adds its work, so that it stays observable. */
const sink = { n: 0 };
type Handler = (p: Payload) => void;

// Masked so the counter stays a small integer: an overflowing one would make every add allocate.
const sameHandler: Handler = (p) => {
  sink.n = (sink.n + p.n) & 0xffff;
};

/**
 * `n` handlers: the same function n times, or n distinct ones. Distinct
 * handlers are compiled one by one with `new Function`, so each has its own
 * source, its own SharedFunctionInfo and its own feedback, as functions from
 * n plugins would. Closures from one factory (`(i) => (p) => ...`) would
 * share one SharedFunctionInfo, and V8 can treat the call sites as seeing
 * one function, which flatters every contender.
 */
function handlers(n: number, distinct: boolean): Handler[] {
  if (!distinct) return Array.from({ length: n }, () => sameHandler);
  return Array.from({ length: n }, (_, i) =>
    new Function(
      "sink",
      `return function handler${i}(p) { sink.n = (sink.n + p.taskId.length + ${i}) & 0xffff; };`,
    )(sink) as Handler);
}

const observe = (emit: () => unknown): BenchFn => () => {
  emit();
  do_not_optimize(sink.n);
};

/** What a group registers: `n` exact listeners, plus a wildcard for plugboard (peers get one more listener). */
interface Shape {
  n: number;
  distinct: boolean;
  wildcard: boolean;
}

/** plugboard's bus with the shape's listeners. */
function ourBus({ n, distinct, wildcard }: Shape): EventBus<Events> {
  const bus = new EventBus<Events>();
  const fns = handlers(n + (wildcard ? 1 : 0), distinct);
  for (let i = 0; i < n; i++) bus.on(EVENT, fns[i]);
  if (wildcard) bus.on("task.*", fns[n]);
  return bus;
}

/** tseep with the same calls. */
function tseepOf(s: Shape): Tseep<{ [EVENT]: (p: Payload) => void }> {
  const ee = new Tseep<{ [EVENT]: (p: Payload) => void }>();
  for (const h of peerHandlers(s)) ee.on(EVENT, h);
  return ee;
}

/** Each contender: build an emitter with the shape's listeners, return its emit. */
const contenders: Record<string, (s: Shape) => BenchFn> = {
  [OURS]: (s) => {
    const bus = ourBus(s);
    return observe(() => bus.emit(EVENT, payload));
  },
  "eventemitter3": (s) => {
    const ee = new EventEmitter3();
    for (const h of peerHandlers(s)) ee.on(EVENT, h);
    return observe(() => ee.emit(EVENT, payload));
  },
  "tseep": (s) => {
    const ee = tseepOf(s);
    return observe(() => ee.emit(EVENT, payload));
  },
  "mitt": (s) => {
    const ee = mitt<Events>();
    for (const h of peerHandlers(s)) ee.on(EVENT, h);
    return observe(() => ee.emit(EVENT, payload));
  },
  "nanoevents": (s) => {
    const ee = createNanoEvents<{ [EVENT]: (p: Payload) => void }>();
    for (const h of peerHandlers(s)) ee.on(EVENT, h);
    return observe(() => ee.emit(EVENT, payload));
  },
  "node:events EventEmitter": (s) => {
    const ee = new NodeEmitter();
    ee.setMaxListeners(1000);
    for (const h of peerHandlers(s)) ee.on(EVENT, h);
    return observe(() => ee.emit(EVENT, payload));
  },
  "EventTarget": (s) => {
    const et = new EventTarget();
    for (const h of peerHandlers(s)) {
      // One adapter per handler, distinct like the handlers when they are.
      const adapter = s.distinct
        ? new Function("h", "return function (e) { h(e.detail); };")(h) as (e: Event) => void
        : (e: Event) => h((e as CustomEvent<Payload>).detail);
      et.addEventListener(EVENT, adapter);
    }
    return observe(() => et.dispatchEvent(new CustomEvent(EVENT, { detail: payload })));
  },
};

/** Peers have no wildcards: they get one more listener instead, so every contender makes the same calls. */
function peerHandlers({ n, distinct, wildcard }: Shape): Handler[] {
  return handlers(n + (wildcard ? 1 : 0), distinct);
}

/** An unguarded loop over the same handlers: the cost floor without error isolation. */
function unguarded(n: number): BenchFn {
  const list = handlers(n, false);
  return observe(() => {
    for (let i = 0; i < list.length; i++) list[i](payload);
  });
}

function group(shape: Shape): BenchGroup {
  return {
    ours: OURS,
    cases: Object.fromEntries(Object.entries(contenders).map(([name, make]) => [name, () => make(shape)])),
  };
}

/** Listener counts measured. */
export const LISTENER_COUNTS = [0, 1, 10, 100] as const;

/** The event groups. */
export const groups: Record<string, BenchGroup> = {};
for (const n of LISTENER_COUNTS) {
  groups[`emit, ${n} listener${n === 1 ? "" : "s"}`] = group({ n, distinct: false, wildcard: false });
}
/** The groups with distinct handlers, which are also measured across fresh processes. */
export const FRESH_GROUPS: string[] = [];
for (const n of [1, 10, 100]) {
  const title = `emit, ${n} distinct listener${n === 1 ? "" : "s"}`;
  groups[title] = group({ n, distinct: true, wildcard: false });
  FRESH_GROUPS.push(title);
}
groups["emit, 10 distinct listeners + a wildcard"] = group({ n: 10, distinct: true, wildcard: true });
FRESH_GROUPS.push("emit, 10 distinct listeners + a wildcard");
/**
 * Two payloads emitted in turn, as a real emitter sees different objects.
 * With one constant payload, a contender whose whole chain V8 inlines into
 * the benchmark's loop gets the payload's fields folded into constants: tseep
 * does, warmed, with 10 listeners (its dispatch function is small enough;
 * plugboard's, one `try` per listener, is not). This group shows what that
 * folding is worth.
 */
const inTurn: Payload[] = [payload, { taskId: "t22", agentId: "a2", n: 2 }];
let turn = 0;
const TEN_DISTINCT: Shape = { n: 10, distinct: true, wildcard: false };
groups["emit, 10 distinct listeners, two payloads in turn"] = {
  ours: OURS,
  cases: {
    [OURS]: () => {
      const bus = ourBus(TEN_DISTINCT);
      return observe(() => bus.emit(EVENT, inTurn[turn++ & 1]));
    },
    "tseep": () => {
      const ee = tseepOf(TEN_DISTINCT);
      return observe(() => ee.emit(EVENT, inTurn[turn++ & 1]));
    },
  },
};
groups["isolation cost, 10 listeners"] = {
  ours: OURS,
  cases: {
    [OURS]: () => contenders[OURS]({ n: 10, distinct: false, wildcard: false }),
    "unguarded loop (no isolation)": () => unguarded(10),
  },
};

/** A case's result with its spread across fresh processes (added to the runner's shape). */
export interface CaseWithFresh extends CaseResult {
  /** mitata's average per fresh process, no harness warm-up; absent for groups not measured that way. */
  fresh?: Spread;
}

/** A group's result; `fresh` figures on its cases when it was measured across fresh processes. */
export interface GroupWithFresh extends GroupResult {
  cases: CaseWithFresh[];
  /** plugboard's slowest fresh process / the fastest peer's fresh median. */
  freshWorstToPeerMedian?: number;
  /** plugboard's fresh median / the fastest peer's fresh median. */
  freshMedianToPeerMedian?: number;
  /** The peer those ratios are against (the one with the lowest fresh median). */
  freshPeer?: string;
}

/** Options of {@linkcode runStandalone}. */
export interface FreshOptions {
  /** Fresh processes per contender; 0 skips them. @default BENCH_FRESH_RUNS or 10 */
  runs?: number;
  /** Peers measured across fresh processes, besides plugboard. @default BENCH_FRESH_PEERS (comma-separated) or every peer */
  peers?: string[];
  /** Skip the warmed measurement. @default false */
  freshOnly?: boolean;
  /** Skip the fresh-process measurement. @default false */
  warmOnly?: boolean;
}

/**
 * Runs the event benchmarks for `bench/main.ts`: every group warmed, as
 * `runModule` does, then the distinct-handler groups across fresh
 * processes. The result keeps the runner's shape (an array of
 * `GroupResult`) and adds `fresh` to the cases of those groups.
 *
 * @param filter only groups whose title matches
 * @param options runs and peers of the fresh measurement
 * @returns the groups' results
 */
export async function runStandalone(filter?: RegExp, options: FreshOptions = {}): Promise<GroupWithFresh[]> {
  const runs = options.runs ?? effort("BENCH_FRESH_RUNS");
  const peerList = options.peers ?? effortList("BENCH_FRESH_PEERS");
  const results: GroupWithFresh[] = options.freshOnly ? [] : await runModule(import.meta.url, filter);
  if (!options.warmOnly && runs < 1) {
    console.log("\n• event spreads across fresh processes: skipped (BENCH_FRESH_RUNS=0)");
  }
  for (const title of options.warmOnly || runs < 1 ? [] : FRESH_GROUPS) {
    if (filter && !filter.test(title)) continue;
    const names = Object.keys(groups[title].cases).filter((n) => n === OURS || !peerList || peerList.includes(n));
    console.log(`\n• ${title}: ${runs} fresh processes per contender, no warm-up`);
    const spreads = await measureSpread(import.meta.url, title, names, runs);
    let result = results.find((r) => r.group === title);
    if (!result) {
      result = { group: title, ours: OURS, cases: [], ratioToFastestPeer: null, fastestPeer: null };
      results.push(result);
    }
    for (const [name, fresh] of spreads) {
      const existing = result.cases.find((c) => c.name === name);
      if (existing) existing.fresh = fresh;
      else {
        result.cases.push({ name, avg: NaN, min: NaN, max: NaN, p50: NaN, p75: NaN, p99: NaN, fresh });
      }
    }
    const ours = spreads.get(OURS)!;
    const peer = [...spreads].filter(([n]) => n !== OURS).sort((a, b) => a[1].median - b[1].median)[0];
    if (peer) {
      result.freshPeer = peer[0];
      result.freshWorstToPeerMedian = ours.max / peer[1].median;
      result.freshMedianToPeerMedian = ours.median / peer[1].median;
    }
    const warmed = new Map(result.cases.filter((c) => Number.isFinite(c.avg)).map((c) => [c.name, c.avg]));
    console.log(spreadTable(title, spreads, OURS, warmed));
  }
  return results;
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "fresh-only": { type: "boolean" },
      "warm-only": { type: "boolean" },
      runs: { type: "string" },
      peers: { type: "string" },
      filter: { type: "string" },
      json: { type: "string" },
    },
  });
  const results = await runStandalone(values.filter ? new RegExp(values.filter) : undefined, {
    freshOnly: values["fresh-only"],
    warmOnly: values["warm-only"],
    runs: values.runs ? Number(values.runs) : undefined,
    peers: values.peers?.split(","),
  });
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
}

// Not a top-level await: runModule imports this module, which must have finished evaluating.
if (import.meta.main) cli();
