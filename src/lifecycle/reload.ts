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
import { unapprovedFor } from "./approval.ts";
import type { PreparedPlugin, PrepareOptions } from "../loader.ts";
import type { PluginInfo } from "../plugin_info.ts";
import { isUrlSource } from "../permissions.ts";
import { dependentsOf } from "../dependencies.ts";
import { discard, swap } from "./activation.ts";
import { type Lifecycle, round } from "./lifecycle.ts";
import { setUp } from "./set_up.ts";
import { loadBatch } from "./batch.ts";
import type { PluginRecord } from "./registry.ts";
import { errorText } from "../error_text.ts";

/** Options of {@linkcode reload}. */
export interface ReloadOptions extends PrepareOptions {
  /**
   * Keep the plugin's crash window: the reload is not the operator's (the
   * plugin's own `ctx.reload()`, or a dependency's reload). An operator's
   * reload empties it, so a plugin fixed after crash-looping gets its full
   * allowance of crashes again.
   */
  keepCrashes?: boolean;
}

/**
 * Reloads a plugin. A plugin that is not active is loaded afresh from its source.
 *
 * @param lc the lifecycle
 * @param name the plugin
 * @param options `update` (URL plugins: take a changed graph), `keepCrashes`
 * @returns its info after the reload
 * @throws {PluginError} why the new version was refused (the old one keeps serving)
 */
export async function reload(lc: Lifecycle, name: string, options: ReloadOptions = {}): Promise<PluginInfo> {
  const record = lc.registry.require(name);
  if (record.state !== "active") {
    const [outcome] = await loadBatch(lc, [{ hint: name, source: record.source }], { track: true });
    if (outcome.error) throw outcome.error;
    return lc.registry.info(lc.registry.require(name));
  }
  const started = performance.now();
  let prepared: PreparedPlugin | undefined;
  try {
    prepared = await lc.loader.prepare(record.source, name, { ...options, unapproved: unapprovedFor(record) });
    checkCompatible(lc, record, prepared);
    let previous: unknown;
    try {
      previous = await record.live!.version.handover();
    } catch (error) {
      lc.ports.report({ origin: "dispose", plugin: name, error });
    }
    if (prepared.snapshot) lc.strays.set(prepared.snapshot, []);
    const next = await setUp(lc, record, prepared, previous, { reload: true });
    const stray = await strayOf(lc, prepared.snapshot);
    if (stray !== undefined) {
      await next.version.stop({ timeoutMs: lc.options.disposeTimeout });
      throw new PluginError(
        "SETUP_FAILED",
        `its setup left a promise rejected with nobody handling it: ${errorText(stray)}. ` +
          `Await it, or add a .catch()`,
        { plugin: name, source: record.source, stage: "reload", cause: stray },
      );
    }
    await swap(lc, record, next);
  } catch (error) {
    if (prepared?.snapshot) lc.strays.delete(prepared.snapshot);
    if (prepared) await discard(prepared);
    throw refuse(lc, record, error, prepared?.snapshot);
  }
  record.reloads++;
  if (!options.keepCrashes) record.crashes = [];
  record.pendingPermissions = undefined;
  record.approvedPermissions = undefined;
  record.pendingHash = record.approvedHash = undefined;
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
  await lc.pin(prepared).catch((error) => lc.log.error(`Cannot pin plugin "${name}"`, error));
  // Dependents hold what they resolved from the old version: reload them, nearest first.
  for (const dependent of dependentsOf(name, lc.registry.activeNodes()).reverse()) {
    await reload(lc, dependent, { keepCrashes: true }).catch(() => {/* recorded; the old dependent keeps serving */});
  }
  return lc.registry.info(record);
}

/**
 * Lets a new version of an isolated plugin in although it asks for more
 * permissions than the active one: records the approval and reloads.
 *
 * @param lc the lifecycle
 * @param name the plugin
 * @returns the plugin's info after the reload
 * @throws {PluginError} `NOT_FOUND`, `CONFLICT` when nothing waits for approval, or why the reload failed
 */
export function approve(lc: Lifecycle, name: string): Promise<PluginInfo> {
  const record = lc.registry.require(name);
  if (!record.pendingPermissions) {
    throw new PluginError("CONFLICT", `Cannot approve plugin "${name}": no new version waits for approval`, {
      plugin: name,
    });
  }
  lc.log.info(`Approved new permissions for plugin "${name}": ${describePermissions(record.pendingPermissions)}`);
  record.approvedPermissions = record.pendingPermissions;
  record.approvedHash = record.pendingHash;
  record.pendingPermissions = undefined;
  return reload(lc, name);
}

/**
 * Lets floating rejections of a new in-process version surface (they are
 * reported after the current task), then returns the first, if any.
 */
async function strayOf(lc: Lifecycle, snapshot: string | undefined): Promise<unknown> {
  if (!snapshot) return undefined;
  await new Promise((r) => setTimeout(r, 0));
  const strays = lc.strays.get(snapshot) ?? [];
  lc.strays.delete(snapshot);
  return strays[0];
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
  if (prepared.isolation !== "in-process" && record.manifest) {
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
