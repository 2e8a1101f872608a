/**
 * A typed event bus whose `emit` isolates every handler: one that throws or
 * rejects is reported (as a `system.error` event, or to `onHandlerError`)
 * and the others still run.
 *
 * Listener lists are copy-on-write. Each event name with listeners has a
 * ready dispatcher (see `event_dispatch.ts`), rebuilt when its listeners or
 * a matching wildcard change, so `emit` is one table lookup and one call: it
 * never allocates, resolves or compiles.
 *
 * @example Emit to a listener
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus } from "../mod.ts";
 * const bus = new EventBus<{ ping: number }>();
 * let got = 0;
 * bus.on("ping", (n) => { got = n; });
 * assert.equal(bus.emit("ping", 7), 1);
 * assert.equal(got, 7);
 * ```
 *
 * @module
 */

import type { PlugboardEvents } from "./event_types.ts";
import { type DispatchOptions, type Listener, takesPayloadOnly } from "./event_dispatch.ts";
import type {
  EmitResult,
  EventBusOptions,
  EventHandler,
  EventMap,
  EventName,
  ListenOptions,
  MatchingEvents,
  WildcardPattern,
} from "./event_bus_types.ts";
import { handlerFailures } from "./event_failures.ts";
import { ListenerSets } from "./event_listeners.ts";
import { type DispatcherRecord, DispatchTable, newDispatcherRecord } from "./event_table.ts";

export type * from "./event_bus_types.ts";

/** Lists up to this size get a generated dispatcher by default. */
const UNROLL_LIMIT = 128;
const SYSTEM_ERROR = "system.error";

let inspect: (bus: EventBus<EventMap>) => Map<string, string>;

/**
 * For tests, not exported by mod.ts: how each name with a dispatcher is
 * dispatched right now, by the dispatcher's function name (`dispatch` for
 * generated code, `loopDispatch` for the loop, `dispatchNone` for none).
 *
 * @param bus the bus to look into
 * @returns dispatcher kind by event name
 */
// deno-lint-ignore no-explicit-any
export function dispatchersOf(bus: EventBus<any>): Map<string, string> {
  return inspect(bus);
}

/**
 * A typed publish/subscribe bus.
 *
 * @typeParam E map from event name to payload type
 *
 * @example Count completed tasks
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus } from "../mod.ts";
 * const bus = new EventBus<{ "task.completed": { id: string } }>();
 * let n = 0;
 * bus.on("task.completed", () => n++);
 * bus.emit("task.completed", { id: "t1" });
 * assert.equal(n, 1);
 * ```
 */
export class EventBus<E extends EventMap = PlugboardEvents> {
  #sets = new ListenerSets();
  /** Dispatchers by event name, read by `emit` (see {@linkcode DispatcherRecord}); the table keeps them. */
  #dispatchers: DispatcherRecord = newDispatcherRecord();
  #table: DispatchTable;
  static {
    inspect = (bus) =>
      new Map([...bus.#table.names()].map((name) => [name, bus.#dispatchers[name]?.name ?? "missing"]));
  }
  #seq = 0;
  #fail: (owner: string | undefined, event: string, error: unknown) => void;

  /**
   * Creates an empty bus.
   *
   * @param options see {@linkcode EventBusOptions}
   * @throws {RangeError} if `unrollLimit` is negative
   *
   * @example Route handler failures to one reporter
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const failures: string[] = [];
   * const bus = new EventBus({
   *   onHandlerError: ({ event, owner, error }) => failures.push(`${event} ${owner} ${(error as Error).message}`),
   * });
   * bus.on("task.created", () => { throw new Error("boom"); }, { owner: "p" });
   * bus.emit("task.created", { taskId: "t1" });
   * assert.deepEqual(failures, ["task.created p boom"]);
   * ```
   */
  constructor(options: EventBusOptions = {}) {
    const unrollLimit = options.unrollLimit ?? UNROLL_LIMIT;
    if (!(unrollLimit >= 0)) {
      throw new RangeError(
        `Cannot create the event bus as 'unrollLimit' must be 0 or more: current value is ${unrollLimit}`,
      );
    }
    this.#fail = handlerFailures(options, {
      listenerCount: (event) => this.listenerCount(event),
      emitSystemError: (payload) => (this as EventBus<EventMap>).emit(SYSTEM_ERROR, payload),
    });
    const dispatch: DispatchOptions = {
      fail: (listener, event, error) => this.#fail(listener.owner, event, error),
      remove: (listener) => void this.#remove([listener]),
      unrollLimit,
    };
    this.#table = new DispatchTable(this.#sets, dispatch, {
      get: () => this.#dispatchers,
      set: (record) => void (this.#dispatchers = record),
    });
  }

  /**
   * Adds a listener for one event, or for every event a wildcard matches.
   *
   * @param event an event name, `*`, or a prefix pattern such as `task.*`
   * @param handler called with the payload and the event name
   * @param options owner, abort signal, once
   * @returns a function that removes the listener
   *
   * @example Listen to every task event
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const seen: string[] = [];
   * const off = bus.on("task.*", (_payload, name) => seen.push(name));
   * bus.emit("task.created", { taskId: "t1" });
   * off();
   * bus.emit("task.failed", { taskId: "t1", error: "x" });
   * assert.deepEqual(seen, ["task.created"]);
   * ```
   */
  on<K extends EventName<E>>(event: K, handler: EventHandler<E, K>, options?: ListenOptions): () => void;
  /**
   * Adds a listener for every event a wildcard matches: `*` for all of them,
   * or a prefix ending in `*` such as `task.*`. The handler's payload is
   * typed as the union of the matching events' payloads.
   *
   * @param pattern `*`, or a prefix ending in `*`
   * @param handler called with the payload and the name of the event that matched
   * @param options owner, abort signal, once
   * @returns a function that removes the listener
   * @throws {TypeError} when `handler` is not a function
   *
   * @example Count every plugin lifecycle event
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus, type PlugboardEvents } from "../mod.ts";
   * const bus = new EventBus<PlugboardEvents>();
   * const names: string[] = [];
   * bus.on("plugin.*", (payload, name) => names.push(`${name} ${payload.name}`));
   * bus.emit("plugin.loaded", { name: "hello", source: "./plugins/hello/mod.ts" });
   * bus.emit("system.error", { origin: "timer", message: "x", error: new Error("x") });
   * assert.deepEqual(names, ["plugin.loaded hello"]);
   * ```
   */
  on<P extends WildcardPattern>(
    pattern: P,
    handler: (payload: E[MatchingEvents<E, P>], event: MatchingEvents<E, P>) => unknown,
    options?: ListenOptions,
  ): () => void;
  on(event: string, handler: Listener["fn"], options: ListenOptions = {}): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`Cannot listen to "${event}": handler must be a function, got ${typeof handler}`);
    }
    const wildcard = event.endsWith("*");
    const listener: Listener = {
      fn: handler,
      owner: options.owner,
      once: options.once ?? false,
      seq: this.#seq++,
      key: event,
      prefix: wildcard ? event.slice(0, -1) : null,
      removed: false,
      payloadOnly: takesPayloadOnly(handler),
    };
    this.#sets.add(listener);
    if (wildcard) this.#table.refreshMatching([listener.prefix!]);
    else this.#table.refresh(event);
    const off = () => void this.#remove([listener]);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) off();
      else signal.addEventListener("abort", off, { once: true });
    }
    return off;
  }

  /**
   * Adds a listener that is removed after its first call.
   *
   * @param event the event name
   * @param handler called once
   * @param options owner and abort signal
   * @returns a function that removes the listener
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * let n = 0;
   * bus.once("task.created", () => n++);
   * bus.emit("task.created", { taskId: "a" });
   * bus.emit("task.created", { taskId: "b" });
   * assert.equal(n, 1);
   * ```
   */
  once<K extends EventName<E>>(
    event: K,
    handler: EventHandler<E, K>,
    options: Omit<ListenOptions, "once"> = {},
  ): () => void {
    return this.on(event, handler, { ...options, once: true });
  }

  /**
   * Removes a listener added with {@linkcode EventBus.on}. Does nothing if it is not there.
   *
   * @param event the name or pattern it was added with
   * @param handler the same function
   * @param owner the owner it was added with, if any
   * @returns whether a listener was removed
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const fn = () => {};
   * bus.on("task.created", fn);
   * assert.equal(bus.off("task.created", fn), true);
   * assert.equal(bus.listenerCount(), 0);
   * ```
   */
  off(event: string, handler: (...args: never[]) => unknown, owner?: string): boolean {
    const found = this.#sets.find(event, handler, owner);
    return found ? this.#remove([found]) > 0 : false;
  }

  /**
   * Calls every listener of `event` synchronously, in the order they were
   * added. A handler that throws (or returns a promise that rejects) is
   * reported as a `system.error` event; the others still run.
   *
   * @param event the event name
   * @param payload the event's data
   * @returns how many listeners the event had when the emit began (one
   *   removed by another handler during the emit, and so skipped, counts)
   *
   * @example A failing handler does not stop the others
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const errors: string[] = [];
   * bus.on("system.error", (e) => errors.push(e.plugin ?? ""));
   * bus.on("task.created", () => { throw new Error("boom"); }, { owner: "bad" });
   * let ran = false;
   * bus.on("task.created", () => { ran = true; });
   * bus.emit("task.created", { taskId: "t1" });
   * assert.equal(ran, true);
   * assert.deepEqual(errors, ["bad"]);
   * ```
   */
  emit<K extends EventName<E>>(event: K, payload: E[K]): number {
    const dispatch = this.#dispatchers[event];
    return dispatch === undefined ? this.#firstEmit(event, payload) : dispatch(payload, event);
  }

  /**
   * Calls every listener and waits until all have settled. Failures are
   * reported as with {@linkcode EventBus.emit} and counted in the result.
   *
   * @param event the event name
   * @param payload the event's data
   * @returns how many handlers were called and how many failed
   *
   * @example Wait for async handlers
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * let saved = false;
   * bus.on("task.created", async () => { await Promise.resolve(); saved = true; });
   * const r = await bus.emitAsync("task.created", { taskId: "t1" });
   * assert.equal(saved, true);
   * assert.deepEqual(r, { called: 1, failed: 0 });
   * ```
   */
  async emitAsync<K extends EventName<E>>(event: K, payload: E[K]): Promise<EmitResult> {
    const list = this.#table.listFor(event);
    let once: Set<Listener> | undefined;
    for (const l of list) if (l.once && !l.removed) (once ??= new Set()).add(l);
    if (once) this.#remove([...once]);
    const called: Listener[] = [];
    const results: Promise<unknown>[] = [];
    for (const l of list) {
      if (l.removed && !once?.has(l)) continue; // removed by an earlier handler of this emit, as `emit` skips it
      called.push(l);
      try {
        results.push(Promise.resolve(l.fn(payload, event)));
      } catch (err) {
        results.push(Promise.reject(err));
      }
    }
    const settled = await Promise.allSettled(results);
    let failed = 0;
    settled.forEach((s, i) => {
      if (s.status === "rejected") {
        failed++;
        this.#fail(called[i].owner, event, s.reason);
      }
    });
    return { called: called.length, failed };
  }

  /**
   * Counts listeners.
   *
   * @param event an event name to count the listeners that `emit` would call
   *   (wildcards included); omit to count every listener
   * @param owner count only this owner's listeners
   * @returns the number of listeners
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * bus.on("task.*", () => {});
   * bus.on("task.created", () => {}, { owner: "p" });
   * assert.equal(bus.listenerCount("task.created"), 2);
   * assert.equal(bus.listenerCount(undefined, "p"), 1);
   * ```
   */
  listenerCount(event?: string, owner?: string): number {
    return this.#sets.count(event, owner);
  }

  /**
   * Removes every listener an owner added.
   *
   * @param owner the owner name passed to `on`
   * @returns how many listeners were removed
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * bus.on("task.created", () => {}, { owner: "p" });
   * bus.on("task.*", () => {}, { owner: "p" });
   * assert.equal(bus.removeOwner("p"), 2);
   * assert.equal(bus.listenerCount(), 0);
   * ```
   */
  removeOwner(owner: string): number {
    return this.#remove(this.#sets.ownedBy(owner));
  }

  /** The names and patterns an owner listens to, once each. @param owner the owner @returns them, in the order added */
  listenedBy(owner: string): string[] {
    return [...new Set(this.#sets.ownedBy(owner).sort((a, b) => a.seq - b.seq).map((l) => l.key))];
  }

  /** Removes listeners, then rebuilds each affected dispatcher once; returns how many were still there. */
  #remove(listeners: readonly Listener[]): number {
    const { count, names, prefixes } = this.#sets.remove(listeners);
    if (count === 0) return 0;
    for (const name of names) this.#table.refresh(name);
    this.#table.refreshMatching(prefixes, names);
    return count;
  }

  /** The first emit of a name nobody listens to by name: resolve it once (wildcards, or nothing). */
  #firstEmit(event: string, payload: unknown): number {
    return this.#table.first(event)(payload, event);
  }
}
