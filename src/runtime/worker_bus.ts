/**
 * The event bus inside a plugin's worker: listeners live on the host, which
 * calls back; emits are sent to the host, which checks them.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import { type EmitResult, EventBus, type ListenOptions } from "../events.ts";
import { mayEmit } from "../emit_rules.ts";
import type { Rpc } from "./rpc.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** The event bus in a worker: every listener lives on the host; emits go to the host. */
// deno-lint-ignore no-explicit-any
export class WorkerBus extends EventBus<any> {
  #rpc: Rpc;
  #plugin: string;
  #emits: readonly string[];
  #next = 1;
  #listeners = new Map<number, { event: string; fn: AnyFn; once: boolean }>();

  /**
   * @param rpc the channel to the host
   * @param plugin the plugin's name
   * @param emits the events its manifest says it emits
   */
  constructor(rpc: Rpc, plugin: string, emits: readonly string[]) {
    super();
    this.#rpc = rpc;
    this.#plugin = plugin;
    this.#emits = emits;
  }

  /** Registers the listener on the host, which calls back for each event. */
  override on(event: string, handler: AnyFn, options: ListenOptions = {}): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`Cannot listen to "${event}": handler must be a function, got ${typeof handler}`);
    }
    const id = this.#next++;
    this.#listeners.set(id, { event, fn: handler, once: options.once ?? false });
    this.#rpc.notify("listen", { id, event, once: options.once ?? false });
    return () => {
      if (this.#listeners.delete(id)) this.#rpc.notify("unlisten", { id });
    };
  }

  /** Removes a listener by its function. */
  override off(event: string, handler: (...args: never[]) => unknown): boolean {
    for (const [id, l] of this.#listeners) {
      if (l.event === event && l.fn === handler) {
        this.#listeners.delete(id);
        this.#rpc.notify("unlisten", { id });
        return true;
      }
    }
    return false;
  }

  /**
   * Sends the event to the host, which delivers it to every listener
   * (this plugin's own included).
   *
   * @returns 0: the count is known only on the host (use `emitAsync` for it)
   * @throws {PluginError} when the payload cannot be structured-cloned
   */
  override emit(event: string, payload: unknown): number {
    this.#assertMayEmit(event);
    try {
      this.#rpc.notify("emit", { event, payload });
    } catch (cause) {
      throw cloneError(event, cause);
    }
    return 0;
  }

  /** Emits on the host and waits for every listener there. */
  override async emitAsync(event: string, payload: unknown): Promise<EmitResult> {
    this.#assertMayEmit(event);
    try {
      return await this.#rpc.call<EmitResult>("emitAsync", { event, payload });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "DataCloneError") throw cloneError(event, cause);
      throw cause;
    }
  }

  #assertMayEmit(event: string): void {
    if (mayEmit(this.#plugin, this.#emits, event)) return;
    throw new PluginError(
      "PERMISSION_DENIED",
      `Plugin "${this.#plugin}" may not emit "${event}": declare it in "emits" of its manifest ` +
        `(its own "${this.#plugin}.*" events need no declaration; system.* and plugin.* belong to the host)`,
      { plugin: this.#plugin },
    );
  }

  /** How many listeners this plugin has (its own only). */
  override listenerCount(event?: string): number {
    let n = 0;
    for (const l of this.#listeners.values()) if (event === undefined || l.event === event) n++;
    return n;
  }

  /**
   * Calls the listener the host delivers to.
   *
   * @param id the listener
   * @param event the event's name
   * @param payload its payload
   * @returns what the handler returned (awaited by the host)
   */
  deliver(id: number, event: string, payload: unknown): unknown {
    const l = this.#listeners.get(id);
    if (!l) return undefined;
    if (l.once) this.#listeners.delete(id);
    return l.fn(payload, event);
  }
}

function cloneError(event: string, cause: unknown): PluginError {
  return new PluginError(
    "BAD_REQUEST",
    `Cannot emit "${event}" from an isolated plugin: its payload cannot be structured-cloned ` +
      `(${(cause as Error)?.message ?? cause}). Send plain data: objects, arrays, strings, numbers, Dates, Maps`,
    { cause },
  );
}
