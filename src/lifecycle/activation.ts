/**
 * Set-up, activation, swap and unload of one plugin version: the steps that
 * make a version live or take it down. A version's registrations are staged
 * in its scope during set-up and go live together on commit.
 *
 * @module
 */

import { join } from "node:path";
import { dependentsOf } from "../dependencies.ts";
import { asPluginError, type PluginError, PluginError as PluginErrorClass } from "../errors.ts";
import type { PluginInfo } from "../plugin_info.ts";
import type { RemotePlugins } from "../remote/mod.ts";
import type { Logger } from "../logger.ts";
import type { PluginLoader, PreparedPlugin } from "../loader.ts";
import type { ResolvedHostOptions } from "../options.ts";
import type { HostPorts } from "../runtime/runtime.ts";
import { type DisposeFailure, Scope } from "../scope.ts";
import { removeSnapshot } from "../snapshots.ts";
import { superviseCrashes } from "./crashes.ts";
import type { LiveVersion, PluginRecord, PluginRegistry } from "./registry.ts";

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
}

/** What an unload returns: the plugin's info and every plugin it unloaded, dependents first. */
export type UnloadResult = PluginInfo & { unloaded: string[] };

/**
 * Unloads a plugin, and its dependents first with `cascade`. A plugin that
 * is not active (failed, disabled) is just forgotten.
 *
 * @param lc the lifecycle
 * @param name the plugin
 * @param cascade unload the plugins that depend on it first instead of refusing
 * @returns the plugin's info, unloaded, and what was unloaded with it
 * @throws {PluginError} `NOT_FOUND`, or `CONFLICT` when others depend on it
 */
export async function unloadWithDependents(lc: Lifecycle, name: string, cascade: boolean): Promise<UnloadResult> {
  const record = lc.registry.require(name);
  if (record.state !== "active") {
    lc.registry.forget(name);
    return { ...lc.registry.info(record), state: "unloaded", unloaded: [] };
  }
  const dependents = dependentsOf(name, lc.registry.activeNodes());
  if (dependents.length && !cascade) {
    const them = dependents.length === 1 ? "it" : "them";
    throw new PluginErrorClass(
      "CONFLICT",
      `${dependents.map((d) => `"${d}"`).join(", ")} depend${dependents.length === 1 ? "s" : ""} on it. ` +
        `Unload ${them} first, or unload with cascade (?cascade=true over HTTP, { cascade: true } in code)`,
      { plugin: name, stage: "unload" },
    );
  }
  for (const d of dependents) await unload(lc, lc.registry.require(d));
  await unload(lc, record);
  return { ...lc.registry.info(record), unloaded: [...dependents, name] };
}

/**
 * Sets a prepared version up in a fresh, staged scope (nothing is live yet).
 *
 * @param lc the lifecycle
 * @param record the plugin
 * @param prepared the version
 * @param previous what the active version handed over, on reload
 * @returns the version with its staged scope
 * @throws {PluginError} when setup fails or times out (the scope is disposed)
 */
export async function setUp(
  lc: Lifecycle,
  record: PluginRecord,
  prepared: PreparedPlugin,
  previous?: unknown,
  options: { reload?: boolean } = {},
): Promise<LiveVersion> {
  const { version, snapshot } = prepared;
  const scope = new Scope(version.manifest.name);
  if (snapshot) scope.onDispose(() => removeSnapshot(snapshot), "snapshot removal");
  const dataDir = join(lc.options.dataDir, "plugins", version.manifest.name);
  await Deno.mkdir(dataDir, { recursive: true }).catch(
    () => {/* read-only hosts: the plugin finds out when it writes */},
  );
  await version.start(lc.ports, {
    scope,
    source: record.source,
    config: prepared.config,
    previous,
    setupTimeout: lc.options.setupTimeout,
    dataDir,
    refuseStrayFailures: options.reload ?? false,
  });
  return { version, scope, snapshot };
}

/**
 * Sets up and activates a prepared version of a plugin that is not active.
 * A failure leaves the plugin `failed` and is not thrown.
 *
 * @param lc the lifecycle
 * @param record the plugin
 * @param prepared the version
 */
export function activate(lc: Lifecycle, record: PluginRecord, prepared: PreparedPlugin): Promise<void> {
  return activateTogether(lc, [{ record, prepared }]);
}

/**
 * Sets up several plugins that do not depend on each other at once (an
 * isolated plugin's setup runs in its own worker, so they overlap), then
 * activates them one by one in the order given: what they register goes
 * live in that order, whichever setup finished first. Failures leave their
 * plugin `failed` and are not thrown.
 *
 * @param lc the lifecycle
 * @param items the plugins, none depending on another of the list
 */
export async function activateTogether(
  lc: Lifecycle,
  items: readonly { record: PluginRecord; prepared: PreparedPlugin }[],
): Promise<void> {
  const setups = items.map(({ record, prepared }) => {
    const started = performance.now();
    record.manifest = prepared.version.manifest;
    lc.registry.transition(record, "loading");
    return setUp(lc, record, prepared).then(
      (live) => ({ live, setupMs: performance.now() - started }),
      (error: unknown) => ({ error }),
    );
  });
  for (const [i, { record, prepared }] of items.entries()) {
    const outcome = await setups[i];
    if ("error" in outcome) {
      lc.registry.transition(record, "failed", { error: asSetupError(outcome.error, record) });
      continue;
    }
    const { live, setupMs } = outcome;
    const conflicts = live.scope.commit();
    if (conflicts.length) {
      // Set up beside another plugin of its level that took the same name first (a service, a hook): undo what
      // went live, stop it, and fail it with the conflict.
      live.scope.deactivate();
      report(lc, record.name, await stop(lc, live));
      lc.registry.transition(record, "failed", { error: asSetupError(conflicts[0], record) });
      continue;
    }
    record.live = live;
    superviseCrashes(lc, record, live);
    record.isolation = prepared.isolation;
    record.loadedAt = new Date();
    record.timings = {
      importMs: round(prepared.importMs),
      setupMs: round(setupMs),
      totalMs: round(prepared.importMs + setupMs),
    };
    lc.registry.transition(record, "active", { durationMs: record.timings.totalMs });
    lc.log.debug(`Plugin "${record.name}" active in ${record.timings.totalMs} ms`);
    await lc.pin(prepared).catch((error) => lc.log.error(`Cannot pin plugin "${record.name}"`, error));
  }
}

/**
 * Replaces an active plugin's live version with a set-up one, in one
 * synchronous step (every event and request sees one version or the other),
 * then stops the old version.
 *
 * @param lc the lifecycle
 * @param record the plugin, active
 * @param next the new version, set up and staged
 */
export async function swap(lc: Lifecycle, record: PluginRecord, next: LiveVersion): Promise<void> {
  const old = record.live!;
  const deactivation = old.scope.deactivate();
  // Past the point of return: what the new version could not register is reported, the rest serves.
  for (const error of next.scope.commit()) lc.ports.report({ origin: "setup", plugin: record.name, error });
  record.live = next;
  record.manifest = next.version.manifest;
  superviseCrashes(lc, record, next);
  report(lc, record.name, [...deactivation, ...await stop(lc, old)]);
}

/**
 * Unloads an active plugin: its own teardown, then every registration undone,
 * then its `onDispose` callbacks, within the host's unload budget.
 *
 * @param lc the lifecycle
 * @param record the plugin
 */
export async function unload(lc: Lifecycle, record: PluginRecord): Promise<void> {
  lc.registry.transition(record, "unloading");
  const live = record.live;
  if (live) report(lc, record.name, await stop(lc, live));
  lc.registry.transition(record, "unloaded");
}

/**
 * Releases what a prepared version holds that never became live (its snapshot).
 *
 * @param prepared the version
 */
export async function discard(prepared: PreparedPlugin): Promise<void> {
  if (prepared.snapshot) await removeSnapshot(prepared.snapshot);
}

function stop(lc: Lifecycle, live: LiveVersion): Promise<DisposeFailure[]> {
  return live.version.stop({ timeoutMs: lc.options.disposeTimeout });
}

function report(lc: Lifecycle, plugin: string, failures: DisposeFailure[]): void {
  // The plugin's own error is reported as thrown; a step that ran over time is a DISPOSE_FAILED.
  for (const f of failures) lc.ports.report({ origin: "dispose", plugin, error: f.error });
}

function asSetupError(error: unknown, record: PluginRecord): PluginError {
  return asPluginError(error, "SETUP_FAILED", { plugin: record.name, source: record.source, stage: "load" });
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
