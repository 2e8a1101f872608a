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
