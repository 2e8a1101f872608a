/**
 * Reload: the new version of an active plugin is imported, checked against
 * the plugins that depend on it, and set up beside the old one; only then is
 * it swapped in. Any failure leaves the old version serving and is recorded
 * with the place it points to.
 *
 * @module
 */

import { resolve } from "node:path";
// @ts-types="@types/semver"
import { satisfies } from "semver";
import { planLoadOrder } from "../dependencies.ts";
import { findLocation } from "../error_location.ts";
import { asPluginError, PermissionError, PluginError } from "../errors.ts";
import { type Capabilities, describePermissions, widening } from "../plugin_permissions.ts";
import type { PreparedPlugin } from "../loader.ts";
import type { PluginInfo } from "../plugin_info.ts";
import { isUrlSource } from "../permissions.ts";
import { dependentsOf } from "../dependencies.ts";
import { discard, type Lifecycle, round, setUp, swap } from "./activation.ts";
import { loadBatch } from "./batch.ts";
import type { PluginRecord } from "./registry.ts";

/**
 * Reloads a plugin. A plugin that is not active is loaded afresh from its source.
 *
 * @param lc the lifecycle
 * @param name the plugin
 * @returns its info after the reload
 * @throws {PluginError} why the new version was refused (the old one keeps serving)
 */
export async function reload(lc: Lifecycle, name: string): Promise<PluginInfo> {
  const record = lc.registry.require(name);
  if (record.state !== "active") {
    const [outcome] = await loadBatch(lc, [{ hint: name, source: record.source }], { track: true });
    if (outcome.error) throw outcome.error;
    return lc.registry.info(lc.registry.require(name));
  }
  const started = performance.now();
  let prepared: PreparedPlugin | undefined;
  try {
    prepared = await lc.loader.prepare(record.source, name);
    checkCompatible(lc, record, prepared);
    let previous: unknown;
    try {
      previous = await record.live!.version.handover();
    } catch (error) {
      lc.ports.report({ origin: "dispose", plugin: name, error });
    }
    const next = await setUp(lc, record, prepared, previous);
    await swap(lc, record, next);
  } catch (error) {
    if (prepared) await discard(prepared);
    throw refuse(lc, record, error, prepared?.snapshot);
  }
  record.reloads++;
  record.pendingPermissions = undefined;
  record.approvedPermissions = undefined;
  record.reloadError = undefined;
  record.reloadErrorLocation = undefined;
  record.loadedAt = new Date();
  const totalMs = performance.now() - started;
  record.timings = {
    importMs: round(prepared.importMs),
    setupMs: round(totalMs - prepared.importMs),
    totalMs: round(totalMs),
  };
  lc.registry.transition(record, "active", { durationMs: record.timings.totalMs, reloaded: true });
  // Dependents hold what they resolved from the old version: reload them, nearest first.
  for (const dependent of dependentsOf(name, lc.registry.activeNodes()).reverse()) {
    await reload(lc, dependent).catch(() => {/* recorded; the old dependent keeps serving */});
  }
  return lc.registry.info(record);
}

/** Refuses a new version that would break the host: a new name, dependencies it lacks, dependents it breaks. */
function checkCompatible(lc: Lifecycle, record: PluginRecord, prepared: PreparedPlugin): void {
  const name = record.name;
  const meta = prepared.version.manifest;
  const fail = (code: "CONFLICT" | "DEPENDENCY", reason: string) =>
    new PluginError(code, reason, { plugin: name, source: record.source, stage: "reload" });
  if (meta.name !== name) {
    throw fail("CONFLICT", `the new version is named "${meta.name}". A reload must keep the name`);
  }
  const others = lc.registry.activeNodes().filter((n) => n.name !== name);
  const plan = planLoadOrder(
    [{ name, version: meta.version, dependencies: meta.dependencies }],
    new Map(others.map((n) => [n.name, n.version])),
  );
  const planError = plan.failures.get(name);
  if (planError) throw planError;
  const broken = others.find((n) => n.dependencies[name] && !satisfies(meta.version, n.dependencies[name]));
  if (broken) {
    throw fail(
      "DEPENDENCY",
      `"${broken.name}" needs ${name} ${broken.dependencies[name]}, but the new version is ${meta.version}`,
    );
  }
  if (!prepared.enabled) throw fail("CONFLICT", `its config.json now says "enabled": false. Unload it instead`);
  if (prepared.isolation === "worker" && record.manifest) {
    const capabilities = (m: typeof meta): Capabilities => ({ ...m.permissions, emits: m.emits });
    const added = widening(capabilities(record.manifest), capabilities(meta));
    const approved = record.approvedPermissions && !widening(record.approvedPermissions, added ?? {});
    if (added && !approved) {
      record.pendingPermissions = added;
      throw new PermissionError(
        `the new version asks for more permissions (${describePermissions(added)}), so it was not swapped in. ` +
          `Approve them with POST /api/plugins/${name}:approve (or host.approve("${name}"))`,
        `POST /api/plugins/${name}:approve`,
        { plugin: name, source: record.source, stage: "reload" },
      );
    }
  }
}

/** Records why a reload was refused, with the location it points to, and returns the error to throw. */
function refuse(lc: Lifecycle, record: PluginRecord, error: unknown, snapshot: string | undefined): PluginError {
  const err = asPluginError(error, "SETUP_FAILED", { plugin: record.name, source: record.source, stage: "reload" })
    .with({ stage: "reload" });
  const within = isUrlSource(record.source)
    ? record.source.replace(/[^/]*$/, "")
    : resolve(lc.options.cwd, record.source, "..");
  const location = findLocation(err, within, (p) => snapshot ? p.replace(snapshot, within) : p);
  lc.registry.reloadFailed(record, err, location);
  return err;
}
