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

import { errorText } from "./error_text.ts";
import type { PlugboardEvents } from "./event_types.ts";
import {
  type Dispatch,
  type DispatchOptions,
  type Listener,
  makeDispatcher,
  takesPayloadOnly,
} from "./event_dispatch.ts";

/** Any map from event name to payload type. */
// deno-lint-ignore no-explicit-any
export type EventMap = Record<string, any>;

/** Event names of `E` that are strings. */
export type EventName<E> = keyof E & string;

/** A wildcard pattern: `*` for everything, or a prefix ending in `*` such as `task.*`. */
export type WildcardPattern = `${string}*`;

/** The event names of `E` that `P` matches. */
export type MatchingEvents<E, P extends string> = P extends "*" ? EventName<E>
  : P extends `${infer Prefix}*` ? Extract<EventName<E>, `${Prefix}${string}`>
  : never;

/** A handler for event `K`; it receives the payload and the event's name. */
export type EventHandler<E, K extends EventName<E>> = (payload: E[K], event: K) => unknown;

/** Options for {@linkcode EventBus.on}. */
export interface ListenOptions {
  /** Who owns the listener; named in `system.error` when it fails. @default undefined */
  owner?: string;
  /** Removes the listener when aborted. @default undefined */
  signal?: AbortSignal;
  /** Remove the listener after its first call. @default false */
  once?: boolean;
}

/** A handler's failure, as given to {@linkcode EventBusOptions.onHandlerError}. */
export interface HandlerFailure {
  /** The event being dispatched. */
  event: string;
  /** The failing listener's owner (`ListenOptions.owner`), if any. */
  owner: string | undefined;
  /** What the handler threw, or why its promise rejected. */
  error: unknown;
}

/** Options for {@linkcode EventBus}. */
export interface EventBusOptions {
  /**
   * Called when a handler of `system.error` itself fails (and, without
   * `onHandlerError`, when a handler fails while nobody listens to
   * `system.error`), so such failures are never lost nor recursive. If it
   * throws, that goes to `console.error`, and the other handlers still run.
   * @default console.error
   */
  onUnhandled?: (error: unknown, event: string, owner: string | undefined) => void;
  /**
   * Reports a failing handler (one that threw or whose promise rejected)
   * instead of the bus emitting `system.error` itself: give it to route
   * every failure through one reporter. Not called for handlers of
   * `system.error`, whose failures go to `onUnhandled`, so a reporter that
   * emits `system.error` cannot recurse. If it throws, that goes to
   * `onUnhandled` too.
   * @default undefined (the bus emits `system.error`)
   */
  onHandlerError?: (failure: HandlerFailure) => void;
  /**
   * Listener lists up to this long get a generated dispatcher (one guarded
   * call per listener); longer ones use a loop. `0` always uses the loop.
   * @default 128
   */
  unrollLimit?: number;
}

/** What {@linkcode EventBus.emitAsync} reports once every handler settled. */
export interface EmitResult {
  /** Handlers called. */
  called: number;
  /** Handlers that threw or rejected (each also reported as `system.error`). */
  failed: number;
}

const EMPTY: readonly Listener[] = Object.freeze([]);
/** Lists up to this size get a generated dispatcher by default. */
const UNROLL_LIMIT = 128;
/** Lists up to this size get their generated dispatcher when they change; longer ones from a microtask. */
const BUILD_NOW_LIMIT = 16;
/** How many names without listeners of their own (resolved on a first emit) are kept. */
const LAZY_CACHE_LIMIT = 2048;
const NO_PROTO = Object.freeze(Object.create(null));
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
  /** Listeners by exact event name (copy-on-write arrays). */
  #exact = new Map<string, readonly Listener[]>();
  /** Wildcard listeners, in registration order (copy-on-write). */
  #wildcards: readonly Listener[] = EMPTY;
  /**
   * The resolved list (exact listeners merged with matching wildcards) of
   * every name with a dispatcher: each name with listeners of its own, and
   * names resolved by a first emit (at most LAZY_CACHE_LIMIT of those).
   */
  #lists = new Map<string, readonly Listener[]>();
  /** Names in `#lists` without listeners of their own, which may be evicted. */
  #lazy = new Set<string>();
  /**
   * Dispatchers by event name, in a plain object rather than a Map: a keyed
   * load with a constant name hits V8's inline cache where Map.get hashes.
   * Its prototype has no properties, so names such as "toString" find
   * nothing. The object is replaced only on eviction; otherwise entries are
   * overwritten, or set to undefined, never deleted, which keeps its shape
   * stable for the inline caches in `emit`.
   */
  #dispatchers: Record<string, Dispatch | undefined> = Object.create(NO_PROTO);
  #dispatch: DispatchOptions;
  /** The same callbacks, for the loop. */
  #loop: DispatchOptions;
  /** Names whose generated dispatcher a queued microtask will build. */
  #pending = new Set<string>();
  static {
    inspect = (bus) => new Map([...bus.#lists.keys()].map((name) => [name, bus.#dispatchers[name]?.name ?? "missing"]));
  }
  #seq = 0;
  #onUnhandled: NonNullable<EventBusOptions["onUnhandled"]>;
  #onHandlerError: EventBusOptions["onHandlerError"];

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
    const onUnhandled = options.onUnhandled ??
      ((error, event, owner) =>
        console.error(`[plugboard] handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed:`, error));
    this.#onUnhandled = (error, event, owner) => {
      try {
        onUnhandled(error, event, owner);
      } catch (thrown) {
        try {
          console.error(`[plugboard] onUnhandled threw while reporting a failed handler of "${event}":`, thrown);
        } catch { /* nowhere left to report it; the other handlers still run */ }
      }
    };
    this.#onHandlerError = options.onHandlerError;
    const unrollLimit = options.unrollLimit ?? UNROLL_LIMIT;
    if (!(unrollLimit >= 0)) {
      throw new RangeError(
        `Cannot create the event bus as 'unrollLimit' must be 0 or more: current value is ${unrollLimit}`,
      );
    }
    this.#dispatch = {
      fail: (listener, event, error) => this.#fail(listener, event, error),
      remove: (listener) => void this.#remove([listener]),
      unrollLimit,
    };
    this.#loop = { ...this.#dispatch, unrollLimit: 0 };
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
    if (wildcard) {
      this.#wildcards = [...this.#wildcards, listener];
      this.#refreshMatching([listener.prefix!]);
    } else {
      this.#exact.set(event, [...(this.#exact.get(event) ?? EMPTY), listener]);
      this.#refresh(event);
    }
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
    const list = event.endsWith("*") ? this.#wildcards : this.#exact.get(event) ?? EMPTY;
    const found = list.find((l) => l.key === event && l.fn === handler && (owner === undefined || l.owner === owner));
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
    const list = this.#listFor(event);
    const once = new Set(list.filter((l) => l.once && !l.removed));
    this.#remove([...once]);
    const called: Listener[] = [];
    const results: Promise<unknown>[] = [];
    for (const l of list) {
      if (l.removed && !once.has(l)) continue; // removed by an earlier handler of this emit, as `emit` skips it
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
        this.#fail(called[i], event, s.reason);
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
    const lists: (readonly Listener[])[] = event === undefined
      ? [...this.#exact.values(), this.#wildcards]
      : [this.#listFor(event)];
    let n = 0;
    for (const list of lists) {
      for (const l of list) if (owner === undefined || l.owner === owner) n++;
    }
    return n;
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
    const mine: Listener[] = [];
    for (const list of this.#exact.values()) for (const l of list) if (l.owner === owner) mine.push(l);
    for (const l of this.#wildcards) if (l.owner === owner) mine.push(l);
    return this.#remove(mine);
  }

  /**
   * Removes listeners, then rebuilds each affected dispatcher once.
   *
   * @returns how many were still there
   */
  #remove(listeners: readonly Listener[]): number {
    const gone = new Set<Listener>();
    const names = new Set<string>();
    const prefixes: string[] = [];
    for (const l of listeners) {
      if (l.removed) continue;
      l.removed = true;
      gone.add(l);
      if (l.prefix !== null) prefixes.push(l.prefix);
      else names.add(l.key);
    }
    if (gone.size === 0) return 0;
    if (prefixes.length) this.#wildcards = this.#wildcards.filter((l) => !gone.has(l));
    for (const name of names) {
      const next = (this.#exact.get(name) ?? EMPTY).filter((l) => !gone.has(l));
      if (next.length) this.#exact.set(name, next);
      else this.#exact.delete(name);
      this.#refresh(name);
    }
    this.#refreshMatching(prefixes, names);
    return gone.size;
  }

  /** The listeners `emit(event)` calls: its own merged with matching wildcards, in registration order. */
  #listFor(event: string): readonly Listener[] {
    const cached = this.#lists.get(event);
    if (cached) return cached;
    const exact = this.#exact.get(event) ?? EMPTY;
    let wild: Listener[] | undefined;
    for (const w of this.#wildcards) if (event.startsWith(w.prefix!)) (wild ??= []).push(w);
    return wild ? [...exact, ...wild].sort((a, b) => a.seq - b.seq) : exact;
  }

  /** Rebuilds the dispatcher of a name whose own listeners changed. */
  #refresh(event: string): void {
    const cached = this.#lists.delete(event);
    if (this.#exact.has(event)) {
      this.#lazy.delete(event);
      this.#install(event);
    } else if (cached) {
      // Its last own listener went: keep a ready dispatcher (wildcards', or none) as a lazy entry.
      this.#lazy.delete(event);
      this.#addLazy(event);
    }
  }

  /** Rebuilds the dispatchers of every name a changed wildcard matches, except `skip` (already rebuilt). */
  #refreshMatching(prefixes: readonly string[], skip?: ReadonlySet<string>): void {
    if (prefixes.length === 0) return;
    for (const name of [...this.#lists.keys()]) {
      if (skip?.has(name) || !prefixes.some((p) => name.startsWith(p))) continue;
      this.#lists.delete(name);
      this.#install(name);
    }
  }

  /**
   * Resolves `event`'s list and sets its dispatcher, so that no emit ever
   * waits for code to be generated:
   * - lazy names (matched only by wildcards, or by nothing) get the loop;
   * - lists of up to BUILD_NOW_LIMIT listeners get generated code at once
   *   (parsed now, compiled on the first emit: microseconds);
   * - longer lists, up to `unrollLimit`, get the loop now and generated code
   *   from a microtask, so a burst of `on` calls builds it once rather than
   *   once per listener (each build parses every listener's guarded call).
   */
  #install(event: string): Dispatch {
    const list = this.#listFor(event);
    this.#lists.set(event, list);
    const generate = !this.#lazy.has(event) && list.length <= this.#dispatch.unrollLimit;
    const later = generate && list.length > BUILD_NOW_LIMIT;
    const dispatch = makeDispatcher(list, generate && !later ? this.#dispatch : this.#loop);
    this.#replace(event, dispatch);
    if (later) this.#buildLater(event);
    else this.#pending.delete(event);
    return dispatch;
  }

  /** Sets a name's dispatcher; the one it replaces may still be running (a handler changed its list), so it is retired. */
  #replace(event: string, dispatch: Dispatch): void {
    this.#dispatchers[event]?.retire?.();
    this.#dispatchers[event] = dispatch;
  }

  #buildLater(event: string): void {
    this.#pending.add(event);
    if (this.#pending.size > 1) return;
    queueMicrotask(() => {
      for (const name of this.#pending) {
        const list = this.#lists.get(name);
        if (list && !this.#lazy.has(name)) this.#replace(name, makeDispatcher(list, this.#dispatch, true));
      }
      this.#pending.clear();
    });
  }

  /**
   * A name without listeners of its own gets a dispatcher too; when too many
   * have, they are all dropped. A dropped dispatcher is retired, as a
   * replaced one is: it may be running (the name being added here may have
   * just lost its last listener to a handler of that very dispatcher).
   */
  #addLazy(event: string): Dispatch {
    if (this.#lazy.size >= LAZY_CACHE_LIMIT) {
      const table: Record<string, Dispatch | undefined> = Object.create(NO_PROTO);
      for (const name of this.#lazy) this.#lists.delete(name);
      for (const name of this.#lists.keys()) table[name] = this.#dispatchers[name];
      for (const name in this.#dispatchers) if (!(name in table)) this.#dispatchers[name]?.retire?.();
      this.#lazy.clear();
      this.#dispatchers = table;
    }
    this.#lazy.add(event);
    return this.#install(event);
  }

  /** The first emit of a name nobody listens to by name: resolve it once (wildcards, or nothing). */
  #firstEmit(event: string, payload: unknown): number {
    return this.#addLazy(event)(payload, event);
  }

  #fail(listener: Listener, event: string, error: unknown): void {
    const owner = listener.owner;
    if (event === SYSTEM_ERROR) return this.#onUnhandled(error, event, owner);
    if (this.#onHandlerError) {
      try {
        this.#onHandlerError({ event, owner, error });
      } catch (reporterError) {
        this.#onUnhandled(reporterError, event, owner);
      }
      return;
    }
    if (this.listenerCount(SYSTEM_ERROR) === 0) return this.#onUnhandled(error, event, owner);
    const reason = errorText(error);
    (this as EventBus<EventMap>).emit(SYSTEM_ERROR, {
      origin: "event",
      plugin: owner,
      event,
      message: `Handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed: ${reason}`,
      error,
    });
  }
}
