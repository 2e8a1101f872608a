/**
 * `ctx.services`: the service container as one plugin sees it. What it
 * provides is owned by it and removed when it unloads; what it resolves is
 * typed as living in another isolate.
 *
 * @module
 */

import type { Scope } from "./scope.ts";
import { type Container, type PlugboardServices, serviceConflict } from "./services.ts";
import type { RemoteService } from "./service_types.ts";
import { tracedFor } from "./runtime/service_calls.ts";

/**
 * The service container as a plugin sees it: what it provides is owned by it
 * and removed when it unloads; what it resolves names it in errors.
 */
export class PluginServices<S extends Record<string, unknown> = PlugboardServices & Record<string, unknown>> {
  #container: Container;
  #scope: Scope;
  #staged = new Map<string, () => unknown>();

  /**
   * Wraps the host's container for one plugin; the host builds one per
   * plugin, a plugin only meets it as `ctx.services`.
   *
   * @param container the host's container
   * @param scope the plugin's scope: it owns every service provided here
   */
  constructor(container: Container, scope: Scope) {
    this.#container = container;
    this.#scope = scope;
  }

  /**
   * Provides a service under a name until the plugin unloads.
   *
   * @param name unique name
   * @param value the service
   * @throws {PluginError} `CONFLICT` when another plugin provides the name
   */
  provide<K extends keyof S & string>(name: K, value: S[K]): void {
    this.#add(name, () => value, (c, owner) => c.provide(name, value as never, { owner }));
  }

  /**
   * Provides a lazily built service until the plugin unloads.
   *
   * @param name unique name
   * @param factory builds it on first resolve
   * @throws {PluginError} `CONFLICT` when another plugin provides the name
   */
  factory<K extends keyof S & string>(name: K, factory: () => S[K]): void {
    let built: { v: S[K] } | undefined;
    const once = () => (built ??= { v: factory() }).v;
    this.#add(name, once, (c, owner) => c.factory(name, once as never, { owner }));
  }

  /**
   * Resolves a service; this plugin's own staged services are found during
   * setup. Another plugin's service may live in another isolate, so it is
   * typed as one ({@linkcode RemoteService}): every method returns a promise
   * and properties are read with `await`. Code written that way runs in
   * every mode.
   *
   * @param name the service
   * @returns the service
   * @throws {ServiceNotFoundError} naming this plugin as the requester
   */
  resolve<K extends keyof S & string>(name: K): RemoteService<S[K]>;
  /**
   * Resolves a service that {@linkcode PlugboardServices} does not type, as
   * the type the caller names (not checked at run time), seen across an
   * isolate ({@linkcode RemoteService}).
   *
   * @param name the service
   * @returns the service
   * @throws {ServiceNotFoundError} naming this plugin as the requester
   */
  resolve<T>(name: string): RemoteService<T>;
  resolve(name: string): unknown {
    const staged = this.#staged.get(name);
    if (staged && !this.#container.has(name)) return staged();
    // A stand-in for a service in another isolate keeps this plugin's frames on its failures (`tracedFor`).
    return tracedFor(this.#container.resolve(name, { requester: this.#scope.owner }));
  }

  /**
   * Resolves a service, or returns undefined.
   *
   * @param name the service
   * @returns the service (as {@linkcode RemoteService}) or undefined
   */
  tryResolve<T = unknown>(name: string): RemoteService<T> | undefined {
    return this.has(name) ? this.resolve<T>(name) : undefined;
  }

  /**
   * Tells whether a service is provided (or staged by this plugin).
   *
   * @param name the service
   * @returns true when it can be resolved
   */
  has(name: string): boolean {
    return this.#container.has(name) || this.#staged.has(name);
  }

  #add(name: string, get: () => unknown, register: (c: Container, owner: string) => void): void {
    const owner = this.#scope.owner;
    const holder = this.#container.owner(name);
    if (this.#staged.has(name)) throw serviceConflict(name, owner, owner);
    if (this.#container.has(name) && holder !== owner) throw serviceConflict(name, owner, holder);
    this.#staged.set(name, get);
    this.#scope.register({
      activate: () => {
        this.#staged.delete(name);
        register(this.#container, owner);
      },
      deactivate: () => {
        this.#staged.delete(name);
        this.#container.remove(name, owner);
      },
    });
  }
}
