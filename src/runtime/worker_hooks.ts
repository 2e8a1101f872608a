/**
 * Extension points inside a plugin's worker: definitions and wrappers are
 * registered on the host, which calls back here to run them.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import { HookRegistry, type HookWrapper } from "../hooks.ts";
import type { Rpc } from "./rpc.ts";
import type { HostDirectory } from "./worker_directory.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** Extension points in a worker: definitions and wrappers live on the host, implemented here. */
export class WorkerHooks extends HookRegistry {
  #rpc: Rpc;
  #directory: HostDirectory;
  #next = 1;
  #impls = new Map<string, AnyFn>();
  #wrappers = new Map<number, HookWrapper<AnyFn>>();

  /**
   * @param rpc the channel to the host
   * @param directory the host's hook names
   */
  constructor(rpc: Rpc, directory: HostDirectory) {
    super();
    this.#rpc = rpc;
    this.#directory = directory;
  }

  /** Defines the hook on the host; calls come back here. */
  override define(name: string, impl: AnyFn): () => void {
    if (typeof impl !== "function") {
      throw new TypeError(`Cannot define hook "${name}": implementation must be a function, got ${typeof impl}`);
    }
    this.#impls.set(name, impl);
    this.#rpc.notify("define", { name });
    return () => {
      if (this.#impls.get(name) === impl) {
        this.#impls.delete(name);
        this.#rpc.notify("undefine", { name });
      }
    };
  }

  /** Wraps the hook on the host; each call comes back here with a `next` that calls the host. */
  override wrap(name: string, wrapper: HookWrapper<AnyFn>): () => void {
    if (typeof wrapper !== "function") {
      throw new TypeError(`Cannot wrap hook "${name}": wrapper must be a function, got ${typeof wrapper}`);
    }
    const id = this.#next++;
    this.#wrappers.set(id, wrapper);
    this.#rpc.notify("wrap", { id, name });
    return () => {
      if (this.#wrappers.delete(id)) this.#rpc.notify("unwrap", { id });
    };
  }

  /** Defined here or on the host. */
  override has(name: string): boolean {
    return this.#impls.has(name) || this.#directory.hooks.includes(name);
  }

  /** Calls go to the host, through every wrapper there. */
  override get(name: string): never {
    return ((...args: unknown[]) => this.#rpc.call("callHook", { name, args })) as never;
  }

  /**
   * Runs this plugin's implementation of a hook for the host.
   *
   * @param name the hook
   * @param args its arguments
   * @returns its result
   */
  runImpl(name: string, args: unknown[]): unknown {
    const impl = this.#impls.get(name);
    if (!impl) throw new PluginError("NOT_FOUND", `Hook "${name}" is no longer defined here`);
    return impl(...args);
  }

  /**
   * Runs one of this plugin's wrappers for the host.
   *
   * @param id the wrapper
   * @param callId names the host's `next` for this call
   * @param args the arguments
   * @returns its result
   */
  runWrapper(id: number, callId: number, args: unknown[]): unknown {
    const wrapper = this.#wrappers.get(id);
    if (!wrapper) throw new PluginError("NOT_FOUND", `Hook wrapper ${id} is no longer registered`);
    const next = (...a: unknown[]) => this.#rpc.call("callNext", { callId, args: a });
    return wrapper(next)(...args);
  }
}
