/**
 * Loading several plugins at once (start-up, a new folder, an admin load):
 * every source is prepared in parallel, {@linkcode planBatch} decides what
 * happens to each (a pure function), then the plugins are set up level by
 * level in dependency order: those of one level together, activated in order.
 *
 * @module
 */

import { planLoadOrder } from "../dependencies.ts";
import { asPluginError, PluginError } from "../errors.ts";
import type { PreparedPlugin } from "../loader.ts";
import type { PluginState } from "../plugin_info.ts";
import { activateTogether, discard } from "./activation.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { PluginRecord } from "./registry.ts";

/** A source to load, with the name to show before its manifest is read. */
export interface BatchSource {
  hint: string;
  source: string;
}

/** How one source was prepared. */
export type PrepareResult = BatchSource & ({ prepared: PreparedPlugin } | { error: unknown });

/** What {@linkcode planBatch} decided. */
export interface BatchPlan {
  /** Sources that cannot load, with the name to report them under and why. */
  refused: { source: BatchSource; name: string; error: unknown }[];
  /** Plugins whose config disables them. */
  disabled: { source: BatchSource; prepared: PreparedPlugin }[];
  /** Plugins to set up, in dependency order. */
  order: { source: BatchSource; prepared: PreparedPlugin }[];
}

/**
 * Decides what happens to each prepared source: refused (it failed, or its
 * name is taken by an active plugin or an earlier source of the batch),
 * disabled, or set up in dependency order (dependencies first; a plugin whose
 * dependencies cannot be met is refused with the reason).
 *
 * @param results how each source was prepared
 * @param stateOf the state of a plugin the host already knows
 * @param active name → version of the active plugins
 * @returns the plan
 *
 * @example A dependency loads first; a duplicate name is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { planBatch } from "./batch.ts";
 * const plugin = (name: string, dependencies: Record<string, string> = {}) => ({
 *   hint: name, source: `./plugins/${name}/mod.ts`,
 *   prepared: { version: { manifest: { name, version: "1.0.0", dependencies } }, enabled: true } as never,
 * });
 * const plan = planBatch([plugin("tracker", { tasks: "^1.0.0" }), plugin("tasks"), plugin("tasks")], () => undefined, new Map());
 * assert.deepEqual(plan.order.map((o) => o.source.hint), ["tasks", "tracker"]);
 * assert.equal(plan.refused.length, 1);
 * ```
 */
export function planBatch(
  results: readonly PrepareResult[],
  stateOf: (name: string) => PluginState | undefined,
  active: ReadonlyMap<string, string>,
): BatchPlan {
  const plan: BatchPlan = { refused: [], disabled: [], order: [] };
  const ready = new Map<string, { source: BatchSource; prepared: PreparedPlugin }>();
  for (const r of results) {
    const source: BatchSource = r;
    if ("error" in r) {
      const name = r.error instanceof PluginError && r.error.manifest ? r.error.manifest.name : r.hint;
      plan.refused.push({ source, name, error: r.error });
      continue;
    }
    const { name } = r.prepared.version.manifest;
    const taken = stateOf(name) === "active" ? "active" : ready.has(name) ? "being loaded" : undefined;
    if (taken) {
      const other = ready.get(name)?.source.source;
      plan.refused.push({
        source,
        name,
        error: new PluginError(
          "CONFLICT",
          `a plugin with that name is already ${taken}${other ? ` from ${other}` : ""}. ` +
            `Rename one, or reload the active one instead`,
          { plugin: name, source: r.source, stage: "load", from: r.source },
        ),
      });
      continue;
    }
    if (!r.prepared.enabled) {
      plan.disabled.push({ source, prepared: r.prepared });
      continue;
    }
    ready.set(name, { source, prepared: r.prepared });
  }
  const dependencies = planLoadOrder(
    [...ready.values()].map(({ prepared: { version: { manifest: m } } }) => ({
      name: m.name,
      version: m.version,
      dependencies: m.dependencies,
    })),
    active,
  );
  for (const [name, error] of dependencies.failures) plan.refused.push({ ...ready.get(name)!, name, error });
  for (const name of dependencies.order) plan.order.push(ready.get(name)!);
  return plan;
}

/** What became of one source of a batch. */
export interface BatchOutcome {
  name: string;
  /** Why it did not become active (undefined when it did, or is disabled). */
  error?: PluginError;
}

/**
 * Prepares every source, plans, and sets the plugins up in dependency order.
 * With `track`, every source gets a record (failures are listed, as for the
 * host's configured plugins); without, a failure is only returned, and no
 * record but one with the very same source is touched.
 *
 * @param lc the lifecycle
 * @param sources what to load
 * @param options `track`: record failures too
 * @returns one outcome per source, in order
 */
export async function loadBatch(
  lc: Lifecycle,
  sources: readonly BatchSource[],
  options: { track: boolean },
): Promise<BatchOutcome[]> {
  const { registry } = lc;
  if (options.track) {
    for (const s of sources) {
      if (registry.get(s.hint)?.state !== "active") registry.track(s.hint, s.source);
    }
  }
  const results: PrepareResult[] = await Promise.all(sources.map(async (s) => {
    try {
      return { ...s, prepared: await lc.loader.prepare(s.source, s.hint) };
    } catch (error) {
      return { ...s, error };
    }
  }));
  const plan = planBatch(
    results,
    (name) => registry.get(name)?.state,
    new Map(registry.activeNodes().map((n) => [n.name, n.version])),
  );
  const outcomes = new Map<BatchSource, BatchOutcome>();
  /** The record for a source, or undefined when a failure must not be recorded. */
  const recordFor = (s: BatchSource, name: string, failing: boolean): PluginRecord | undefined => {
    const provisional = options.track ? registry.get(s.hint) : undefined;
    const usable = provisional?.state === "discovered" && provisional.source === s.source ? provisional : undefined;
    const known = registry.get(name);
    // A name taken by an active plugin: never touch it; a configured source is listed under its own hint.
    if (known?.state === "active") return usable && s.hint !== name ? usable : undefined;
    // A failure never takes over a record of another source: it stays under its own hint, or unrecorded.
    if (failing && known && known.source !== s.source) return usable && s.hint !== name ? usable : undefined;
    if (usable && s.hint !== name) registry.forget(s.hint);
    if (failing && !options.track && !known) return undefined;
    if (known && known.source === s.source && known.state === "discovered") return known;
    return registry.track(name, s.source);
  };
  // Records are assigned in source order, so listings keep the order plugins were found in.
  const refusal = new Map(plan.refused.map((r) => [r.source, r]));
  const records = new Map<BatchSource, PluginRecord>();
  for (const r of results) {
    const refused = refusal.get(r);
    const name = refused?.name ?? ("prepared" in r ? r.prepared.version.manifest.name : r.hint);
    const record = recordFor(r, name, refused !== undefined);
    if (record) records.set(r, record);
    if (!refused) continue;
    const { error } = refused;
    const err = asPluginError(error, "SETUP_FAILED", { plugin: name, stage: "load" });
    if (record) registry.transition(record, "failed", { error: err });
    else lc.log.debug(err.message);
    outcomes.set(r, { name, error: err });
  }
  for (const { source, prepared } of plan.disabled) {
    const record = records.get(source)!;
    record.manifest = prepared.version.manifest;
    registry.transition(record, "disabled");
    outcomes.set(source, { name: record.name });
  }
  // Every planned plugin's manifest is known before any of them sets up: what each declares (`provides`, `emits`) is
  // its own from the start, whichever goes live first.
  for (const { source, prepared } of plan.order) records.get(source)!.manifest = prepared.version.manifest;
  const activated = new Set<PreparedPlugin>();
  // Plugins of one dependency level (none needs another of the level) are set up together, activated in order.
  for (const level of dependencyLevels(plan.order)) {
    const ready: { record: PluginRecord; prepared: PreparedPlugin; source: BatchSource }[] = [];
    for (const { source, prepared } of level) {
      const { name, dependencies } = prepared.version.manifest;
      const record = records.get(source)!;
      const broken = Object.keys(dependencies).find((d) =>
        plan.order.some((o) => o.prepared.version.manifest.name === d) && registry.get(d)?.state !== "active"
      );
      if (!broken) {
        ready.push({ record, prepared, source });
        continue;
      }
      const error = new PluginError(
        "DEPENDENCY",
        `its dependency "${broken}" failed to set up (${name} → ${broken})`,
        { plugin: name, source: source.source, stage: "load" },
      );
      record.manifest = prepared.version.manifest;
      registry.transition(record, "failed", { error });
      outcomes.set(source, { name, error });
    }
    await activateTogether(lc, ready);
    for (const { record, prepared, source } of ready) {
      if (record.state === "active") activated.add(prepared);
      outcomes.set(source, {
        name: prepared.version.manifest.name,
        error: record.state === "active" ? undefined : record.error,
      });
    }
  }
  for (const r of results) {
    if ("prepared" in r && !activated.has(r.prepared)) await discard(r.prepared);
  }
  return results.map((r) => outcomes.get(r) ?? { name: r.hint });
}

/**
 * Splits a dependency order into levels: a plugin's level is one more than
 * its deepest dependency's within the list, so no plugin shares a level with
 * one it needs. The order inside each level is kept.
 *
 * @param order plugins in dependency order
 * @returns the levels, first to last
 */
export function dependencyLevels<T extends { prepared: PreparedPlugin }>(order: readonly T[]): T[][] {
  const levelOf = new Map<string, number>();
  const levels: T[][] = [];
  for (const item of order) {
    const { name, dependencies } = item.prepared.version.manifest;
    let level = 0;
    for (const dep of Object.keys(dependencies)) {
      const at = levelOf.get(dep);
      if (at !== undefined && at + 1 > level) level = at + 1;
    }
    levelOf.set(name, level);
    (levels[level] ??= []).push(item);
  }
  return levels.filter((l) => l !== undefined);
}

/**
 * Warns about names in `trusted` and `sandboxed` that no plugin found at
 * start has: a misspelt name would otherwise leave the plugin it meant
 * running where the operator did not choose (in a worker), with no word.
 *
 * @param lc the lifecycle
 * @param sources what start found
 */
export function warnUnknownNames(lc: Lifecycle, sources: readonly BatchSource[]): void {
  const known = new Set(sources.map((s) => s.hint));
  for (const setting of ["trusted", "sandboxed"] as const) {
    for (const name of lc.options[setting]) {
      if (!known.has(name)) {
        lc.log.warn(
          `"${setting}" names "${name}", but no plugin found at start has that name (its folder's name): check the ` +
            `spelling, or remove it`,
        );
      }
    }
  }
}
