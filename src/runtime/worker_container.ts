/**
 * The service container inside a plugin's worker: its own services live
 * here and are announced to the host; other plugins' are reached through
 * async proxies.
 *
 * @module
 */

import { ServiceNotFoundError } from "../errors.ts";
import { Container, type ProvideOptions, type ResolveOptions } from "../services.ts";
import { asyncProxy } from "./async_proxy.ts";
import { assertCrossable } from "./crossing.ts";
import type { Rpc } from "./rpc.ts";
import { runServiceCall, type ServiceCall } from "./service_calls.ts";
import type { HostDirectory } from "./worker_directory.ts";

/** The service container in a worker: own services kept here and announced; others reached by async proxy. */
export class WorkerContainer extends Container {
  #rpc: Rpc;
  #directory: HostDirectory;

  /**
   * @param rpc the channel to the host
   * @param directory what the host provides, kept current by the host
   */
  constructor(rpc: Rpc, directory: HostDirectory) {
    super();
    this.#rpc = rpc;
    this.#directory = directory;
  }

  /** Provides locally and announces it to the host. */
  override provide(name: string, value: unknown, options: ProvideOptions = {}): void {
    super.provide(name as never, value as never, options);
    this.#rpc.notify("provide", { name });
  }

  /** Provides a lazily built service locally and announces it. */
  override factory(name: string, factory: () => unknown, options: ProvideOptions = {}): void {
    super.factory(name as never, factory as never, options);
    this.#rpc.notify("provide", { name });
  }

  /** Removes an own service and withdraws it from the host. */
  override remove(name: string, owner?: string): boolean {
    const removed = super.remove(name, owner);
    if (removed) this.#rpc.notify("unprovide", { name });
    return removed;
  }

  /** An own service as it is; another plugin's as an async proxy (every call returns a promise). */
  override resolve(name: string, options: ResolveOptions = {}): never {
    if (super.has(name)) return super.resolve(name, options) as never;
    if (name in this.#directory.services) {
      return asyncProxy((path, args, kind) => {
        assertCrossable(args, { service: name, path, part: "arguments", plugin: options.requester });
        return this.#rpc.call("callService", { name, path, args, kind } satisfies ServiceCall);
      }) as never;
    }
    throw new ServiceNotFoundError(name, options.requester, this.names());
  }

  /** Provided here or on the host. */
  override has(name: string): boolean {
    return super.has(name) || name in this.#directory.services;
  }

  /** Who provides a service. */
  override owner(name: string): string | undefined {
    return super.owner(name) ?? this.#directory.services[name];
  }

  /** Every service name known here (own and the host's). */
  override names(owner?: string): string[] {
    const remote = Object.entries(this.#directory.services).filter(([, o]) => owner === undefined || o === owner);
    return [...new Set([...super.names(owner), ...remote.map(([n]) => n)])].sort();
  }

  /**
   * Calls or reads an own service for the host (for a plugin in another
   * isolate, or the host itself).
   *
   * @param call the service, the property path and the arguments
   * @returns the result, checked to cross
   */
  invoke(call: ServiceCall): Promise<unknown> {
    return runServiceCall(super.resolve(call.name), call, super.owner(call.name));
  }
}
