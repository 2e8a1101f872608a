/**
 * Names that belong to a plugin because its manifest declares them: the
 * services and hooks it `provides`, and the events it `emits`. A plugin that
 * registers or emits a name another plugin declares fails (the squatter),
 * whatever the order they load in, and the owner keeps its name. A claim
 * lasts while the host knows the plugin (any state but unloaded).
 *
 * @module
 */

import type { PluginRecord } from "./registry.ts";

/** What a manifest can claim. */
export type ClaimKind = "services" | "hooks";

/**
 * Who declares a service or hook name, among the plugins the host knows.
 *
 * @param records the host's plugin records
 * @param kind services or hooks
 * @param name the name
 * @returns the declaring plugin, or undefined when none does
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimantOf } from "./claims.ts";
 * const records = [{ name: "tasks", state: "active", manifest: { provides: { services: ["tasks"] } } }] as never;
 * assert.equal(claimantOf(records, "services", "tasks"), "tasks");
 * assert.equal(claimantOf(records, "hooks", "tasks"), undefined);
 * ```
 */
export function claimantOf(records: Iterable<PluginRecord>, kind: ClaimKind, name: string): string | undefined {
  for (const r of records) {
    if (r.state !== "unloaded" && r.manifest?.provides?.[kind]?.includes(name)) return r.name;
  }
  return undefined;
}

/**
 * Who, other than `plugin`, declares in `emits` a pattern that covers an
 * event: such an event is not `plugin`'s to emit under its own name.
 *
 * @param records the host's plugin records
 * @param plugin the emitting plugin
 * @param event the event
 * @returns the declaring plugin, or undefined
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emitClaimantOf } from "./claims.ts";
 * const records = [{ name: "tasks", state: "active", manifest: { emits: ["task.*"] } }] as never;
 * assert.equal(emitClaimantOf(records, "task", "task.created"), "tasks");
 * assert.equal(emitClaimantOf(records, "tasks", "task.created"), undefined);
 * ```
 */
export function emitClaimantOf(records: Iterable<PluginRecord>, plugin: string, event: string): string | undefined {
  for (const r of records) {
    if (r.name === plugin || r.state === "unloaded") continue;
    const covers = (p: string) => p === event || (p.endsWith(".*") && event.startsWith(p.slice(0, -1)));
    if (r.manifest?.emits?.some(covers)) return r.name;
  }
  return undefined;
}
