/**
 * Wires the lifecycle from the host's shared tables: the runtimes (a worker
 * runtime unless `isolation` is `"none"`, a process runtime for the
 * plugins named in `sandboxed`), the loader, URL plugins (opened
 * on first use), the ports a runtime registers into, and the host's queue.
 *
 * @module
 */

import type { PlugboardEvents } from "../event_types.ts";
import type { EventBus } from "../events.ts";
import type { HookRegistry } from "../hooks.ts";
import { PluginLoader } from "../loader.ts";
import type { Logger } from "../logger.ts";
import type { ResolvedHostOptions } from "../options.ts";
import { limitsOf } from "../plugin_limits.ts";
import type { RemotePlugins } from "../remote/mod.ts";
import type { ErrorReporter } from "../reporter.ts";
import type { RouteTable } from "../routes.ts";
import type { InProcessRuntime } from "../runtime/in_process.ts";
import { WorkerRuntime } from "../runtime/worker_runtime.ts";
import type { Container } from "../services.ts";
import type { Storage } from "../storage.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { PluginRegistry } from "./registry.ts";
import { openRemotePlugins } from "./remote.ts";
import { emitClaimantOf } from "./claims.ts";

/** What the host hands to {@linkcode createLifecycle}. */
export interface LifecycleParts {
  options: ResolvedHostOptions;
  log: Logger;
  registry: PluginRegistry;
  inProcess: InProcessRuntime;
  events: EventBus<PlugboardEvents>;
  services: Container;
  routes: RouteTable;
  hooks: HookRegistry;
  storage: Storage;
  report: ErrorReporter;
  /** The host's reload (queued), for `ctx.reload()`. */
  reload(name: string): Promise<unknown>;
  /** The host's queue. */
  enqueue<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Builds the lifecycle the host's operations run on.
 *
 * @param parts the host's tables, options and queue
 * @returns the lifecycle
 */
export function createLifecycle(parts: LifecycleParts): Lifecycle {
  const o = parts.options;
  const isolated = (tier: "worker" | "process") =>
    new WorkerRuntime({
      tier,
      dataDir: o.dataDir,
      hangTimeout: (name) => limitsOf(o, name).hangTimeout,
      memoryLimitMb: (name) => limitsOf(o, name).memoryMb,
      limits: (name) => limitsOf(o, name),
      rates: (name) => {
        const { emitsPerSecond: emits, logsPerSecond: logs } = limitsOf(o, name);
        return { emits, logs };
      },
      grants: o.grants,
      log: parts.log,
    });
  const worker = o.isolation === "worker" ? isolated("worker") : undefined;
  const process = o.sandboxed.length ? isolated("process") : undefined;
  let remote: Promise<RemotePlugins> | undefined;
  const openRemote = () => remote ??= openRemotePlugins(o, parts.log);
  return {
    registry: parts.registry,
    loader: new PluginLoader(o, { inProcess: parts.inProcess, worker, process }, parts.log, openRemote),
    remote: openRemote,
    close: () => worker?.close(),
    pin: async (prepared) => {
      if (prepared.remote) await (await openRemote()).pin(prepared.remote, prepared.version.manifest);
    },
    enqueue: parts.enqueue,
    strays: new Map(),
    options: o,
    log: parts.log,
    ports: {
      events: parts.events,
      services: parts.services,
      routes: parts.routes,
      hooks: parts.hooks,
      storage: () => parts.storage,
      log: parts.log,
      report: parts.report,
      reload: async (name) => void await parts.reload(name),
      emitClaimant: (plugin, event) => emitClaimantOf(parts.registry.records(), plugin, event),
    },
  };
}
