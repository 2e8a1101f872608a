/**
 * A typed event bus whose `emit` isolates every handler: one that throws or
 * rejects is reported as a `system.error` event and the others still run.
 *
 * Listener lists are copy-on-write and resolved once per event name (exact
 * listeners merged with matching wildcards), so `emit` allocates nothing.
 *
 * @module
 */

import type { PlugboardEvents } from "./event_types.ts";

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

/** Options for {@linkcode EventBus}. */
export interface EventBusOptions {
  /**
   * Called when a handler of `system.error` itself fails, so such failures
   * are never lost nor recursive. @default console.error
   */
  onUnhandled?: (error: unknown, event: string, owner: string | undefined) => void;
}

/** What {@linkcode EventBus.emitAsync} reports once every handler settled. */
export interface EmitResult {
  /** Handlers called. */
  called: number;
  /** Handlers that threw or rejected (each also reported as `system.error`). */
  failed: number;
}

interface Listener {
  // deno-lint-ignore no-explicit-any
  readonly fn: (payload: any, event: string) => unknown;
  readonly owner: string | undefined;
  readonly once: boolean;
  readonly seq: number;
  /** Set when removed, so a `once` listener fires once even if emitted re-entrantly. */
  removed: boolean;
}

const EMPTY: readonly Listener[] = Object.freeze([]);

type Fail = (listener: Listener, event: string, error: unknown) => void;
type Remove = (event: string, listener: Listener) => void;
type Dispatch = (payload: unknown, event: string) => number;

/** A resolved listener list with the function that calls it. */
interface Resolved {
  readonly list: readonly Listener[];
  readonly dispatch: Dispatch;
}

/** Lists up to this size get a generated dispatcher; longer ones use a loop. */
const UNROLL_LIMIT = 128;
const dispatchNone: Dispatch = () => 0;

/**
 * Builds the function that calls a listener list. Short lists without `once`
 * listeners get generated straight-line code (one guarded call per listener,
 * each call site monomorphic), as tseep does; the rest use a loop. Only
 * indices enter the generated source, never user input.
 */
function makeDispatcher(list: readonly Listener[], fail: Fail, remove: Remove): Dispatch {
  const n = list.length;
  if (n === 0) return dispatchNone;
  if (n > UNROLL_LIMIT || list.some((l) => l.once)) return loopDispatcher(list, fail, remove);
  let body = "";
  for (let i = 0; i < n; i++) {
    body += `if (!l${i}.removed) { try { const r = f${i}(p, e); ` +
      `if (r != null && typeof r.then === "function") r.then(undefined, (x) => fail(l${i}, e, x)); } ` +
      `catch (x) { fail(l${i}, e, x); } }\n`;
  }
  const names = list.map((_, i) => `l${i} = list[${i}], f${i} = l${i}.fn`).join(", ");
  const factory = new Function(
    "list",
    "fail",
    `const ${names};\nreturn function dispatch(p, e) {\n${body}return ${n};\n};`,
  );
  return factory(list, fail) as Dispatch;
}

function loopDispatcher(list: readonly Listener[], fail: Fail, remove: Remove): Dispatch {
  const n = list.length;
  return (payload, event) => {
    for (let i = 0; i < n; i++) {
      const l = list[i];
      if (l.removed) continue;
      if (l.once) remove(event, l);
      try {
        const r = l.fn(payload, event);
        if (r != null && typeof (r as Promise<unknown>).then === "function") {
          (r as Promise<unknown>).then(undefined, (err) => fail(l, event, err));
        }
      } catch (err) {
        fail(l, event, err);
      }
    }
    return n;
  };
}
const RESOLVED_CACHE_LIMIT = 2048;
const NO_PROTO = Object.freeze(Object.create(null));
const SYSTEM_ERROR = "system.error";

/**
 * A typed publish/subscribe bus.
 *
 * @typeParam E map from event name to payload type
 *
 * @example Count completed tasks
 * ```ts
 * import { EventBus } from "../mod.ts";
 * const bus = new EventBus<{ "task.completed": { id: string } }>();
 * let n = 0;
 * bus.on("task.completed", () => n++);
 * bus.emit("task.completed", { id: "t1" });
 * if (n !== 1) throw new Error("expected one call");
 * ```
 */
export class EventBus<E extends EventMap = PlugboardEvents> {
  #exact = new Map<string, readonly Listener[]>();
  #wildcards: readonly { prefix: string; listener: Listener }[] = [];
  /**
   * Dispatchers by event name, in a plain object rather than a Map: a keyed
   * load with a constant name hits V8's inline cache (sub-ns) where Map.get
   * hashes (~4 ns). Its prototype has no properties, so names such as
   * "toString" find nothing; entries are set to undefined, never deleted,
   * which keeps the object in V8's fast mode.
   */
  #dispatchers: Record<string, Dispatch | undefined> = Object.create(NO_PROTO);
  #resolved = new Map<string, Resolved>();
  #failBound = (listener: Listener, event: string, error: unknown) => this.#fail(listener, event, error);
  #removeBound = (event: string, listener: Listener) => this.#remove(event, listener);
  #seq = 0;
  #onUnhandled: NonNullable<EventBusOptions["onUnhandled"]>;

  /** @param options see {@linkcode EventBusOptions} */
  constructor(options: EventBusOptions = {}) {
    this.#onUnhandled = options.onUnhandled ??
      ((error, event, owner) =>
        console.error(`[plugboard] handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed:`, error));
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const seen: string[] = [];
   * const off = bus.on("task.*", (_payload, name) => seen.push(name));
   * bus.emit("task.created", { taskId: "t1" });
   * off();
   * bus.emit("task.failed", { taskId: "t1", error: "x" });
   * if (seen.join() !== "task.created") throw new Error(seen.join());
   * ```
   */
  on<K extends EventName<E>>(event: K, handler: EventHandler<E, K>, options?: ListenOptions): () => void;
  on<P extends WildcardPattern>(
    pattern: P,
    handler: (payload: E[MatchingEvents<E, P>], event: MatchingEvents<E, P>) => unknown,
    options?: ListenOptions,
  ): () => void;
  on(event: string, handler: Listener["fn"], options: ListenOptions = {}): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`Cannot listen to "${event}": handler must be a function, got ${typeof handler}`);
    }
    const listener: Listener = {
      fn: handler,
      owner: options.owner,
      once: options.once ?? false,
      seq: this.#seq++,
      removed: false,
    };
    if (event.endsWith("*")) {
      this.#wildcards = [...this.#wildcards, { prefix: event.slice(0, -1), listener }];
      this.#invalidate();
    } else {
      this.#exact.set(event, [...(this.#exact.get(event) ?? EMPTY), listener]);
      this.#invalidate(event);
    }
    const off = () => this.#remove(event, listener);
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * let n = 0;
   * bus.once("task.created", () => n++);
   * bus.emit("task.created", { taskId: "a" });
   * bus.emit("task.created", { taskId: "b" });
   * if (n !== 1) throw new Error();
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const fn = () => {};
   * bus.on("task.created", fn);
   * if (!bus.off("task.created", fn) || bus.listenerCount() !== 0) throw new Error();
   * ```
   */
  off(event: string, handler: (...args: never[]) => unknown, owner?: string): boolean {
    const list = event.endsWith("*")
      ? this.#wildcards.filter((w) => w.prefix === event.slice(0, -1)).map((w) => w.listener)
      : this.#exact.get(event) ?? EMPTY;
    const found = list.find((l) => l.fn === handler && (owner === undefined || l.owner === owner));
    return found ? this.#remove(event, found) : false;
  }

  /**
   * Calls every listener of `event` synchronously, in the order they were
   * added. A handler that throws (or returns a promise that rejects) is
   * reported as a `system.error` event; the others still run.
   *
   * @param event the event name
   * @param payload the event's data
   * @returns how many listeners were called
   *
   * @example A failing handler does not stop the others
   * ```ts
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * const errors: string[] = [];
   * bus.on("system.error", (e) => errors.push(e.plugin ?? ""));
   * bus.on("task.created", () => { throw new Error("boom"); }, { owner: "bad" });
   * let ran = false;
   * bus.on("task.created", () => { ran = true; });
   * bus.emit("task.created", { taskId: "t1" });
   * if (!ran || errors[0] !== "bad") throw new Error();
   * ```
   */
  emit<K extends EventName<E>>(event: K, payload: E[K]): number {
    const dispatch = this.#dispatchers[event];
    return dispatch === undefined ? this.#resolve(event).dispatch(payload, event) : dispatch(payload, event);
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * let saved = false;
   * bus.on("task.created", async () => { await Promise.resolve(); saved = true; });
   * const r = await bus.emitAsync("task.created", { taskId: "t1" });
   * if (!saved || r.called !== 1 || r.failed !== 0) throw new Error();
   * ```
   */
  async emitAsync<K extends EventName<E>>(event: K, payload: E[K]): Promise<EmitResult> {
    const live = (this.#resolved.get(event) ?? this.#resolve(event)).list.filter((l) => !l.removed);
    for (const l of live) if (l.once) this.#remove(event, l);
    const settled = await Promise.allSettled(live.map((l) => {
      try {
        return Promise.resolve(l.fn(payload, event));
      } catch (err) {
        return Promise.reject(err);
      }
    }));
    let failed = 0;
    settled.forEach((s, i) => {
      if (s.status === "rejected") {
        failed++;
        this.#fail(live[i], event, s.reason);
      }
    });
    return { called: live.length, failed };
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * bus.on("task.*", () => {});
   * bus.on("task.created", () => {}, { owner: "p" });
   * if (bus.listenerCount("task.created") !== 2 || bus.listenerCount(undefined, "p") !== 1) throw new Error();
   * ```
   */
  listenerCount(event?: string, owner?: string): number {
    const lists: (readonly Listener[])[] = event === undefined
      ? [...this.#exact.values(), this.#wildcards.map((w) => w.listener)]
      : [(this.#resolved.get(event) ?? this.#resolve(event)).list];
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
   * import { EventBus } from "../mod.ts";
   * const bus = new EventBus();
   * bus.on("task.created", () => {}, { owner: "p" });
   * bus.on("task.*", () => {}, { owner: "p" });
   * if (bus.removeOwner("p") !== 2 || bus.listenerCount() !== 0) throw new Error();
   * ```
   */
  removeOwner(owner: string): number {
    let n = 0;
    for (const [event, list] of this.#exact) {
      for (const l of list) if (l.owner === owner && this.#remove(event, l)) n++;
    }
    for (const w of this.#wildcards) {
      if (w.listener.owner === owner && this.#remove(`${w.prefix}*`, w.listener)) n++;
    }
    return n;
  }

  #remove(event: string, listener: Listener): boolean {
    if (listener.removed) return false;
    listener.removed = true;
    if (event.endsWith("*")) {
      this.#wildcards = this.#wildcards.filter((w) => w.listener !== listener);
      this.#invalidate();
    } else {
      const next = (this.#exact.get(event) ?? EMPTY).filter((l) => l !== listener);
      if (next.length) this.#exact.set(event, next);
      else this.#exact.delete(event);
      this.#invalidate(event);
    }
    return true;
  }

  /** Forgets the resolved dispatcher of one event, or of all. */
  #invalidate(event?: string): void {
    if (event === undefined) {
      this.#resolved.clear();
      this.#dispatchers = Object.create(NO_PROTO);
    } else if (this.#resolved.delete(event)) {
      this.#dispatchers[event] = undefined;
    }
  }

  #resolve(event: string): Resolved {
    const exact = this.#exact.get(event) ?? EMPTY;
    let list = exact;
    const wild = this.#wildcards.filter((w) => event.startsWith(w.prefix));
    if (wild.length) {
      list = [...exact, ...wild.map((w) => w.listener)].sort((a, b) => a.seq - b.seq);
    }
    const resolved = { list, dispatch: makeDispatcher(list, this.#failBound, this.#removeBound) };
    if (this.#resolved.size >= RESOLVED_CACHE_LIMIT) this.#invalidate();
    this.#resolved.set(event, resolved);
    this.#dispatchers[event] = resolved.dispatch;
    return resolved;
  }

  #fail(listener: Listener, event: string, error: unknown): void {
    if (event === SYSTEM_ERROR || this.listenerCount(SYSTEM_ERROR) === 0) {
      this.#onUnhandled(error, event, listener.owner);
      return;
    }
    const owner = listener.owner;
    const reason = error instanceof Error ? error.message : String(error);
    (this as EventBus<EventMap>).emit(SYSTEM_ERROR, {
      origin: "event",
      plugin: owner,
      event,
      message: `Handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed: ${reason}`,
      error,
    });
  }
}
