/**
 * What an isolated plugin sees of the host's own events. `system.*` and
 * `plugin.*` payloads about another plugin carry its error messages, stacks,
 * file paths and sources: an isolated plugin gets them only when its
 * manifest declares `permissions.observe` (`["system"]`, `["plugin"]`, or
 * both); otherwise it gets who and what, without the details. Payloads about
 * itself, and every other event, are delivered whole.
 *
 * @module
 */

/**
 * The payload of `event` as `plugin` may see it.
 *
 * @param plugin the listening plugin
 * @param observes its `permissions.observe`
 * @param event the event
 * @param payload the payload
 * @returns the payload, or a redacted copy
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { visiblePayload } from "./event_visibility.ts";
 * const failure = { origin: "route", plugin: "billing", message: "db password wrong", error: new Error("x") };
 * assert.deepEqual(visiblePayload("spy", [], "system.error", failure), {
 *   origin: "route",
 *   plugin: "billing",
 *   message: 'a failure in plugin "billing" (its details need permissions.observe: ["system"])',
 * });
 * assert.equal(visiblePayload("spy", ["system"], "system.error", failure), failure);
 * assert.equal(visiblePayload("billing", [], "system.error", failure), failure);
 * ```
 */
export function visiblePayload(
  plugin: string,
  observes: readonly string[],
  event: string,
  payload: unknown,
): unknown {
  const domain = event.startsWith("system.") ? "system" : event.startsWith("plugin.") ? "plugin" : undefined;
  if (!domain || observes.includes(domain) || payload === null || typeof payload !== "object") return payload;
  const p = payload as Record<string, unknown>;
  if (domain === "plugin") {
    return p.name === plugin ? payload : { name: p.name, version: p.version };
  }
  if (p.plugin === plugin) return payload;
  const about = typeof p.plugin === "string" ? `plugin "${p.plugin}"` : "the host";
  return {
    origin: p.origin,
    plugin: p.plugin,
    ...(p.event === undefined ? {} : { event: p.event }),
    message: `a failure in ${about} (its details need permissions.observe: ["system"])`,
  };
}
