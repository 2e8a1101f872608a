/**
 * Extension points: named functions (such as the tasks plugin's
 * `task.execute`) that plugins wrap instead of monkey-patching. The chain is recomposed from the current
 * wrappers on every change, so removing wrappers in any order restores
 * exactly the behaviour of the ones left.
 *
 * @module
 */

import { PluginError } from "./errors.ts";
import { claimConflict } from "./services.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/**
 * Hook signatures by name. The core defines none; a plugin types its
 * extension points by augmenting this interface (the way
 * `plugins/tasks/events.ts` adds `task.execute`):
 *
 * ```ts ignore
 * declare module "../../mod.ts" {
 *   interface PlugboardHooks {
 *     "report.render": (report: Report) => string;
 *   }
 * }
 * ```
 *
 * @example A registry typed with its own hooks
 * ```ts
 * import assert from "node:assert/strict";
 * import { HookRegistry } from "../mod.ts";
 * const hooks = new HookRegistry<{ double: (n: number) => number }>();
 * hooks.define("double", (n) => n * 2);
 * hooks.wrap("double", (next) => (n) => next(n) + 1, { owner: "plus-one" });
 * assert.equal(hooks.call("double", 2), 5);
 * ```
 */
// deno-lint-ignore no-empty-interface
export interface PlugboardHooks {}

/**
 * A wrapper: receives the next function in the chain, returns a replacement.
 *
 * @typeParam F the hook's function type
 */
// deno-lint-ignore no-explicit-any
export type HookWrapper<F extends (...args: any[]) => any> = (next: F) => F;

interface HookSlot {
  base?: AnyFn;
  owner?: string;
  wrappers: { owner: string | undefined; wrap: HookWrapper<AnyFn> }[];
  composed?: AnyFn;
}

/**
 * Named extension points and their wrappers.
 *
 * @typeParam H map from hook name to function type
 */
// deno-lint-ignore no-explicit-any
export class HookRegistry<H extends Record<string, any> = PlugboardHooks & Record<string, any>> {
  #slots = new Map<string, HookSlot>();
  #claimedBy: ((name: string) => string | undefined) | undefined;

  /**
   * Creates an empty registry.
   *
   * @param options `claimedBy`: who owns a hook name by declaration (a
   *   plugin's manifest `provides`); another plugin that defines it is refused
   */
  constructor(options: { claimedBy?: (name: string) => string | undefined } = {}) {
    this.#claimedBy = options.claimedBy;
  }

  /**
   * Defines an extension point with its base implementation.
   *
   * @param name the hook
   * @param impl what runs when nothing wraps it
   * @param options the owning plugin
   * @returns a function that removes the definition (wrappers stay, waiting)
   * @throws {PluginError} `CONFLICT` when another owner defined it
   */
  define<K extends keyof H & string>(name: K, impl: H[K], options: { owner?: string } = {}): () => void {
    if (typeof impl !== "function") {
      throw new TypeError(`Cannot define hook "${name}": implementation must be a function, got ${typeof impl}`);
    }
    const slot = this.#slot(name);
    if (slot.base) {
      const by = slot.owner ? `plugin "${slot.owner}"` : "the host";
      throw new PluginError(
        "CONFLICT",
        `Cannot define hook "${name}"${
          options.owner ? ` in plugin "${options.owner}"` : ""
        }: ${by} defines it already. ` +
          `Wrap it with hooks.wrap() instead`,
        { plugin: options.owner },
      );
    }
    const claimant = options.owner === undefined ? undefined : this.#claimedBy?.(name);
    if (claimant !== undefined && claimant !== options.owner) {
      throw claimConflict("hook", name, options.owner!, claimant);
    }
    slot.base = impl;
    slot.owner = options.owner;
    slot.composed = undefined;
    return () => {
      if (slot.base === impl) {
        slot.base = undefined;
        slot.owner = undefined;
        slot.composed = undefined;
      }
    };
  }

  /**
   * Wraps an extension point. Later wrappers run outside earlier ones.
   *
   * @param name the hook (it may be defined later)
   * @param wrapper receives `next`, returns the replacement
   * @param options the owning plugin
   * @returns a function that removes this wrapper
   */
  wrap<K extends keyof H & string>(name: K, wrapper: HookWrapper<H[K]>, options: { owner?: string } = {}): () => void {
    if (typeof wrapper !== "function") {
      throw new TypeError(`Cannot wrap hook "${name}": wrapper must be a function, got ${typeof wrapper}`);
    }
    const slot = this.#slot(name);
    const entry = { owner: options.owner, wrap: wrapper as unknown as HookWrapper<AnyFn> };
    slot.wrappers = [...slot.wrappers, entry];
    slot.composed = undefined;
    return () => {
      slot.wrappers = slot.wrappers.filter((w) => w !== entry);
      slot.composed = undefined;
    };
  }

  /**
   * Tells whether an extension point has an implementation.
   *
   * @param name the hook
   * @returns true when defined
   */
  has(name: string): boolean {
    return this.#slots.get(name)?.base !== undefined;
  }

  /**
   * The composed function: every wrapper around the base implementation.
   *
   * @param name the hook
   * @returns the function to call
   * @throws {PluginError} `NOT_FOUND` when the hook is not defined
   */
  get<K extends keyof H & string>(name: K): H[K] {
    const slot = this.#slots.get(name);
    if (!slot?.base) {
      throw new PluginError(
        "NOT_FOUND",
        `Cannot call hook "${name}": nothing defines it. Load the plugin that defines it, or define it on the host`,
      );
    }
    if (!slot.composed) {
      let fn = slot.base;
      for (const w of slot.wrappers) fn = w.wrap(fn);
      slot.composed = fn;
    }
    return slot.composed as H[K];
  }

  /**
   * Calls an extension point through its wrappers.
   *
   * @param name the hook
   * @param args its arguments
   * @returns its result
   */
  call<K extends keyof H & string>(name: K, ...args: Parameters<H[K]>): ReturnType<H[K]> {
    return this.get(name)(...args);
  }

  /**
   * Who wraps a hook, innermost first.
   *
   * @param name the hook
   * @returns owners of the wrappers ("host" for none)
   */
  wrappers(name: string): string[] {
    return (this.#slots.get(name)?.wrappers ?? []).map((w) => w.owner ?? "host");
  }

  /**
   * The hooks that are defined or wrapped, in the order first named.
   *
   * @returns hook names
   *
   * @example List the extension points
   * ```ts
   * import assert from "node:assert/strict";
   * import { HookRegistry } from "../mod.ts";
   * const hooks = new HookRegistry<{ a: () => number; b: () => number }>();
   * hooks.define("a", () => 1);
   * hooks.wrap("b", (next) => () => next() + 1);
   * assert.deepEqual(hooks.names(), ["a", "b"]);
   * ```
   */
  names(): string[] {
    const out: string[] = [];
    for (const [name, slot] of this.#slots) if (slot.base || slot.wrappers.length) out.push(name);
    return out;
  }

  /**
   * Who defined a hook.
   *
   * @param name the hook
   * @returns the owning plugin, "host" for one defined without owner, undefined when not defined
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HookRegistry } from "../mod.ts";
   * const hooks = new HookRegistry<{ a: () => number }>();
   * hooks.define("a", () => 1, { owner: "p" });
   * assert.equal(hooks.definer("a"), "p");
   * ```
   */
  definer(name: string): string | undefined {
    const slot = this.#slots.get(name);
    return slot?.base ? slot.owner ?? "host" : undefined;
  }

  #slot(name: string): HookSlot {
    let slot = this.#slots.get(name);
    if (!slot) this.#slots.set(name, slot = { wrappers: [] });
    return slot;
  }
}
