/**
 * Which dispatcher each event name has, and when it is rebuilt. A name with
 * listeners of its own gets a dispatcher for its list (its listeners merged
 * with the wildcards matching it); a name emitted without listeners of its
 * own is resolved once on its first emit and kept as a lazy entry, up to
 * {@linkcode LAZY_CACHE_LIMIT} of them. A replaced dispatcher is retired,
 * since an emit may still be running it.
 *
 * The dispatchers themselves sit in the bus's own record (read by `emit`
 * with no indirection); the table reads and replaces that record through
 * the accessor it is given.
 *
 * @module
 */

import { type Dispatch, type DispatchOptions, type Listener, makeDispatcher } from "./event_dispatch.ts";
import type { ListenerSets } from "./event_listeners.ts";

/** Lists up to this size get their generated dispatcher when they change; longer ones from a microtask. */
const BUILD_NOW_LIMIT = 16;
/** How many names without listeners of their own (resolved on a first emit) are kept. */
export const LAZY_CACHE_LIMIT = 2048;
const NO_PROTO = Object.freeze(Object.create(null));

/**
 * Dispatchers by event name, in a plain object rather than a Map: a keyed
 * load with a constant name hits V8's inline cache where Map.get hashes. Its
 * prototype has no properties, so names such as "toString" find nothing. The
 * object is replaced only on eviction; otherwise entries are overwritten,
 * never deleted, which keeps its shape stable for the inline caches in the
 * bus's `emit`.
 */
export type DispatcherRecord = Record<string, Dispatch | undefined>;

/**
 * A new, empty record of dispatchers.
 *
 * @returns the record
 */
export function newDispatcherRecord(): DispatcherRecord {
  return Object.create(NO_PROTO);
}

/** The table of one bus. */
export class DispatchTable {
  /** The resolved list of every name with a dispatcher. */
  #lists = new Map<string, readonly Listener[]>();
  /** Names in `#lists` without listeners of their own, which may be evicted. */
  #lazy = new Set<string>();
  /** Names whose generated dispatcher a queued microtask will build. */
  #pending = new Set<string>();
  #sets: ListenerSets;
  #dispatch: DispatchOptions;
  #loop: DispatchOptions;
  #record: { get(): DispatcherRecord; set(record: DispatcherRecord): void };

  /**
   * @param sets the bus's listeners
   * @param dispatch the callbacks and unroll limit of generated dispatchers
   * @param record reads and replaces the bus's record of dispatchers
   */
  constructor(
    sets: ListenerSets,
    dispatch: DispatchOptions,
    record: { get(): DispatcherRecord; set(record: DispatcherRecord): void },
  ) {
    this.#sets = sets;
    this.#dispatch = dispatch;
    this.#loop = { ...dispatch, unrollLimit: 0 };
    this.#record = record;
  }

  /** The names that have a dispatcher. */
  names(): IterableIterator<string> {
    return this.#lists.keys();
  }

  /**
   * The listeners an emit of `event` calls now.
   *
   * @param event the name
   * @returns the list
   */
  listFor(event: string): readonly Listener[] {
    return this.#lists.get(event) ?? this.#sets.listFor(event);
  }

  /**
   * Rebuilds the dispatcher of a name whose own listeners changed.
   *
   * @param event the name
   */
  refresh(event: string): void {
    const cached = this.#lists.delete(event);
    if (this.#sets.hasOwn(event)) {
      this.#lazy.delete(event);
      this.#install(event);
    } else if (cached) {
      // Its last own listener went: keep a ready dispatcher (wildcards', or none) as a lazy entry.
      this.#lazy.delete(event);
      this.first(event);
    }
  }

  /**
   * Rebuilds the dispatchers of every name a changed wildcard matches.
   *
   * @param prefixes the changed wildcards' prefixes
   * @param skip names already rebuilt
   */
  refreshMatching(prefixes: readonly string[], skip?: ReadonlySet<string>): void {
    if (prefixes.length === 0) return;
    for (const name of [...this.#lists.keys()]) {
      if (skip?.has(name) || !prefixes.some((p) => name.startsWith(p))) continue;
      this.#lists.delete(name);
      this.#install(name);
    }
  }

  /**
   * Resolves a name emitted without a dispatcher (a first emit) and keeps it
   * as a lazy entry; past {@linkcode LAZY_CACHE_LIMIT} lazy names, they are
   * all evicted first (and their dispatchers retired).
   *
   * @param event the name
   * @returns its dispatcher
   */
  first(event: string): Dispatch {
    if (this.#lazy.size >= LAZY_CACHE_LIMIT) {
      const old = this.#record.get();
      const table = newDispatcherRecord();
      for (const name of this.#lazy) this.#lists.delete(name);
      for (const name of this.#lists.keys()) table[name] = old[name];
      for (const name in old) if (!(name in table)) old[name]?.retire?.();
      this.#lazy.clear();
      this.#record.set(table);
    }
    this.#lazy.add(event);
    return this.#install(event);
  }

  #install(event: string): Dispatch {
    const list = this.#sets.listFor(event);
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
    const record = this.#record.get();
    record[event]?.retire?.();
    record[event] = dispatch;
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
}
