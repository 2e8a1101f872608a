/**
 * What the lifecycle steps (batch, activation, reload, crashes, URL plugin
 * updates) share: the host's registry, loader, ports, options and queue.
 *
 * @module
 */

import type { Logger } from "../logger.ts";
import type { PluginLoader, PreparedPlugin } from "../loader.ts";
import type { ResolvedHostOptions } from "../options.ts";
import type { RemotePlugins } from "../remote/mod.ts";
import type { HostPorts } from "../runtime/runtime.ts";
import type { PluginRegistry } from "./registry.ts";

/** What the lifecycle steps share. */
export interface Lifecycle {
  registry: PluginRegistry;
  loader: PluginLoader;
  ports: HostPorts;
  options: ResolvedHostOptions;
  log: Logger;
  /** Runs an operation in the host's queue, after the ones already queued. */
  enqueue<T>(fn: () => Promise<T>): Promise<T>;
  /** Stray failures of versions being set up, by their snapshot folder (see `stray_failures.ts`). */
  strays: Map<string, unknown[]>;
  /** Records a URL plugin's pins in plugboard.lock once a version of it works. */
  pin(prepared: PreparedPlugin): Promise<void>;
  /** The URL plugins' fetcher, lock and snapshots, opened on first use. */
  remote(): Promise<RemotePlugins>;
  /** Ends what the runtimes keep ready (workers started ahead of a reload); the host is stopping. */
  close?(): void;
}

/**
 * Rounds milliseconds to two decimals.
 *
 * @param ms milliseconds
 * @returns rounded
 */
export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
