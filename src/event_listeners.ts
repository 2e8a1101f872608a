/**
 * The listeners of an event bus, by exact name and by wildcard prefix, in
 * copy-on-write arrays: a dispatch in progress keeps the array it started
 * with, whatever handlers add or remove meanwhile.
 *
 * @module
 */

import type { Listener } from "./event_dispatch.ts";

/** The empty list, shared. */
export const EMPTY: readonly Listener[] = Object.freeze([]);

/** What a removal changed: the exact names and the wildcard prefixes whose lists must be rebuilt. */
export interface Removed {
  /** How many listeners were removed. */
  count: number;
  /** Exact names that lost a listener. */
  names: Set<string>;
  /** Prefixes of wildcards that were removed. */
  prefixes: string[];
}

/**
 * The listener sets of one bus.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenerSets } from "./event_listeners.ts";
 * const sets = new ListenerSets();
 * const listener = (key: string, seq: number) => ({
 *   fn: () => {}, owner: "p", once: false, seq, key, removed: false, payloadOnly: false,
 *   prefix: key.endsWith("*") ? key.slice(0, -1) : null,
 * });
 * sets.add(listener("task.*", 0));
 * sets.add(listener("task.created", 1));
 * assert.deepEqual(sets.listFor("task.created").map((l) => l.key), ["task.*", "task.created"]);
 * assert.equal(sets.count(undefined, "p"), 2);
 * ```
 */
export class ListenerSets {
  /** Listeners by exact event name. */
  #exact = new Map<string, readonly Listener[]>();
  /** Wildcard listeners, in registration order. */
  #wildcards: readonly Listener[] = EMPTY;

  /**
   * Adds a listener (exact, or a wildcard when it has a prefix).
   *
   * @param listener the listener
   */
  add(listener: Listener): void {
    if (listener.prefix !== null) this.#wildcards = [...this.#wildcards, listener];
    else this.#exact.set(listener.key, [...(this.#exact.get(listener.key) ?? EMPTY), listener]);
  }

  /**
   * Whether a name has listeners of its own (not only wildcards).
   *
   * @param event the name
   * @returns true when it has
   */
  hasOwn(event: string): boolean {
    return this.#exact.has(event);
  }

  /**
   * The listeners an emit of `event` calls: its own merged with matching
   * wildcards, in registration order.
   *
   * @param event the name
   * @returns the list (shared: never modify it)
   */
  listFor(event: string): readonly Listener[] {
    const exact = this.#exact.get(event) ?? EMPTY;
    let wild: Listener[] | undefined;
    for (const w of this.#wildcards) if (event.startsWith(w.prefix!)) (wild ??= []).push(w);
    return wild ? [...exact, ...wild].sort((a, b) => a.seq - b.seq) : exact;
  }

  /**
   * Finds a listener by its key, function and (optionally) owner.
   *
   * @param event the exact name or wildcard pattern
   * @param fn the handler
   * @param owner only this owner's
   * @returns the listener, or undefined
   */
  find(event: string, fn: unknown, owner?: string): Listener | undefined {
    const list = event.endsWith("*") ? this.#wildcards : this.#exact.get(event) ?? EMPTY;
    return list.find((l) => l.key === event && l.fn === fn && (owner === undefined || l.owner === owner));
  }

  /**
   * Counts listeners.
   *
   * @param event one name's (with the wildcards matching it), or every listener when undefined
   * @param owner only this owner's
   * @returns how many
   */
  count(event?: string, owner?: string): number {
    const lists = event === undefined ? [...this.#exact.values(), this.#wildcards] : [this.listFor(event)];
    let n = 0;
    for (const list of lists) for (const l of list) if (owner === undefined || l.owner === owner) n++;
    return n;
  }

  /**
   * Every listener of an owner.
   *
   * @param owner the owner
   * @returns its listeners
   */
  ownedBy(owner: string): Listener[] {
    const mine: Listener[] = [];
    for (const list of this.#exact.values()) for (const l of list) if (l.owner === owner) mine.push(l);
    for (const l of this.#wildcards) if (l.owner === owner) mine.push(l);
    return mine;
  }

  /**
   * Marks listeners removed and takes them out of their sets.
   *
   * @param listeners the listeners (those already removed are skipped)
   * @returns what changed
   */
  remove(listeners: readonly Listener[]): Removed {
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
    if (prefixes.length) this.#wildcards = this.#wildcards.filter((l) => !gone.has(l));
    for (const name of names) {
      const next = (this.#exact.get(name) ?? EMPTY).filter((l) => !gone.has(l));
      if (next.length) this.#exact.set(name, next);
      else this.#exact.delete(name);
    }
    return { count: gone.size, names, prefixes };
  }
}
