/**
 * What a plugin may be called, in a module of its own: the worker and the
 * storage need the rule without the manifest's validation (and its imports).
 *
 * @module
 */

/**
 * Plugin names: lowercase kebab-case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PLUGIN_NAME_RE } from "./plugin_name.ts";
 * assert.ok(PLUGIN_NAME_RE.test("task-tracker"));
 * assert.ok(!PLUGIN_NAME_RE.test("Task_Tracker"));
 * ```
 */
export const PLUGIN_NAME_RE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * A name to report for a source before its manifest is read: its folder's
 * name (for a `mod.ts`, `index.ts`, ...) or its file's, in kebab-case; an
 * isolated plugin's name must match it.
 *
 * @param source a path, an URL, or `inline:<name>`
 * @returns the name
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hintFor } from "./plugin_name.ts";
 * assert.equal(hintFor("/srv/plugins/task-tracker/mod.ts"), "task-tracker");
 * assert.equal(hintFor("https://x.example/audit_log.js?v=2"), "audit-log");
 * ```
 */
export function hintFor(source: string): string {
  if (source.startsWith("inline:")) return source.slice("inline:".length);
  const parts = source.replace(/[?#].*$/, "").split(/[\\/]/).filter(Boolean);
  let last = parts.pop() ?? "plugin";
  if (/^(mod|index|main|plugin)\.[cm]?[jt]sx?$/.test(last)) last = parts.pop() ?? last;
  const hint = last.replace(/\.[cm]?[jt]sx?$/, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return PLUGIN_NAME_RE.test(hint) ? hint : "plugin";
}
