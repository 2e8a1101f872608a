/**
 * Set-up, activation, swap and unload of one plugin version: the steps that
 * make a version live or take it down. A version's registrations are staged
 * in its scope during set-up and go live together on commit.
 *
 * @module
 */

import { dependentsOf } from "../dependencies.ts";
import { asPluginError, type PluginError, PluginError as PluginErrorClass } from "../errors.ts";
import type { PluginInfo } from "../plugin_info.ts";
import type { PreparedPlugin } from "../loader.ts";
import { limitsOf } from "../plugin_limits.ts";
import type { DisposeFailure } from "../scope.ts";
import { removeSnapshot } from "../snapshots.ts";
import { superviseCrashes } from "./crashes.ts";
import { type Lifecycle, round } from "./lifecycle.ts";
import type { LiveVersion, PluginRecord } from "./registry.ts";
import { setUp } from "./set_up.ts";

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
    // Its record goes; plugin.unloaded says so, as for an active plugin (what watched it, its metrics, forgets it).
    lc.registry.transition(record, "unloaded");
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
 * then its `onDispose` callbacks, within the host's unload budget. An
 * isolated plugin first lets its requests in flight finish.
 *
 * @param lc the lifecycle
 * @param record the plugin
 * @param options `drainMs`: how long requests in flight may take to finish (default: the plugin's `routeTimeout`)
 */
export async function unload(lc: Lifecycle, record: PluginRecord, options: { drainMs?: number } = {}): Promise<void> {
  lc.registry.transition(record, "unloading");
  const live = record.live;
  if (live) report(lc, record.name, await stop(lc, live, options.drainMs));
  lc.registry.transition(record, "unloaded");
}

/**
 * Releases what a prepared version holds that never became live: its worker
 * (an isolated version's ends at once) and its snapshot. Every version the
 * lifecycle prepares and does not activate goes through here.
 *
 * @param prepared the version
 */
export async function discard(prepared: PreparedPlugin): Promise<void> {
  prepared.version.discard?.();
  if (prepared.snapshot) await removeSnapshot(prepared.snapshot);
}

/** Stops a version that was live: its requests in flight get up to the plugin's route deadline (or `drainMs`) to finish. */
function stop(lc: Lifecycle, live: LiveVersion, drainMs?: number): Promise<DisposeFailure[]> {
  return live.version.stop({
    timeoutMs: lc.options.disposeTimeout,
    drainMs: drainMs ?? limitsOf(lc.options, live.scope.owner).routeTimeout,
  });
}

function report(lc: Lifecycle, plugin: string, failures: DisposeFailure[]): void {
  // The plugin's own error is reported as thrown; a step that ran over time is a DISPOSE_FAILED.
  for (const f of failures) lc.ports.report({ origin: "dispose", plugin, error: f.error });
}

function asSetupError(error: unknown, record: PluginRecord): PluginError {
  return asPluginError(error, "SETUP_FAILED", { plugin: record.name, source: record.source, stage: "load" });
}
