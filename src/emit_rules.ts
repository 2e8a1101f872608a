/**
 * Which events an isolated plugin may emit, in a module of its own: the
 * worker applies the rule too, without the permission schemas (and their
 * imports).
 *
 * @module
 */

/** An event name or a prefix pattern (`task.created`, `task.*`). */
export const EVENT_PATTERN_RE = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?$/;

/**
 * Whether an isolated plugin may emit an event: one its manifest's `emits`
 * names, or its own (`<name>.*`) unless another plugin declares that event
 * in its `emits` (a plugin named `task` cannot emit `task.created` that the
 * `tasks` plugin declares); never the host's (`system.*`, `plugin.*`).
 *
 * @param plugin the plugin's name
 * @param emits the manifest's `emits`
 * @param event the event
 * @param claimedBy who else declares the event in `emits`, if anyone @default nobody
 * @returns true when allowed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mayEmit } from "./emit_rules.ts";
 * assert.equal(mayEmit("tasks", ["agent.*"], "agent.task.completed"), true);
 * assert.equal(mayEmit("tasks", [], "tasks.cleaned"), true);
 * assert.equal(mayEmit("evil", [], "task.failed"), false);
 * assert.equal(mayEmit("evil", ["system.*"], "system.error"), false);
 * assert.equal(mayEmit("task", [], "task.created", () => "tasks"), false);
 * ```
 */
export function mayEmit(
  plugin: string,
  emits: readonly string[],
  event: string,
  claimedBy?: (event: string) => string | undefined,
): boolean {
  if (event.startsWith("system.") || event.startsWith("plugin.")) return false;
  if (emits.some((p) => p === event || (p.endsWith(".*") && event.startsWith(p.slice(0, -1))))) return true;
  return event.startsWith(`${plugin}.`) && claimedBy?.(event) === undefined;
}
