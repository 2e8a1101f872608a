/**
 * What a plugin was approved for, and what a new version of it asks beyond
 * that. A version's capabilities are its manifest's permissions and the
 * events it emits; the approved set is what the running version has plus
 * what the operator approved since (`:approve`). Every path that starts a
 * new version of a running plugin (reload, update, watch, crash or watchdog
 * restart) checks it before the new code runs with any grant.
 *
 * @module
 */

import type { PluginMeta } from "../plugin_meta.ts";
import { type Capabilities, widening } from "../plugin_permissions.ts";
import type { PluginRecord } from "./registry.ts";

/**
 * The capabilities a manifest asks for.
 *
 * @param manifest the manifest
 * @returns its permissions and emitted events
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capabilitiesOf } from "./approval.ts";
 * assert.deepEqual(capabilitiesOf({ name: "p", version: "1.0.0", permissions: { env: ["A"] }, emits: ["x.*"] }), {
 *   env: ["A"],
 *   emits: ["x.*"],
 * });
 * ```
 */
export function capabilitiesOf(manifest: PluginMeta): Capabilities {
  return { ...manifest.permissions, emits: manifest.emits };
}

/**
 * The check for a new version of a running plugin: what it asks beyond its
 * approval, or undefined. Records what is beyond as the plugin's
 * `pendingPermissions` (with the version's content hash), so the operator
 * sees what to approve. An approval holds for the code it was given for: a
 * version whose content changed since (another hash) asks again.
 *
 * @param record the plugin
 * @returns the check to give the loader
 */
export function unapprovedFor(
  record: PluginRecord,
): (capabilities: Capabilities, contentHash?: string) => Capabilities | undefined {
  return (capabilities, contentHash) => {
    if (!record.manifest) return undefined;
    const added = widening(capabilitiesOf(record.manifest), capabilities);
    if (!added) return undefined;
    const approved = record.approvedPermissions && !widening(record.approvedPermissions, added) &&
      record.approvedHash === contentHash;
    if (approved) return undefined;
    record.pendingPermissions = added;
    record.pendingHash = contentHash;
    return added;
  };
}
