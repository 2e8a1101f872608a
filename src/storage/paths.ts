/**
 * Where plugin data lives under the host's data folder (host side only; a
 * plugin's worker is handed its own folder).
 *
 * @module
 */

import { join } from "node:path";
import { PLUGIN_NAME_RE } from "../plugin_name.ts";

/**
 * A plugin's data folder under the host's data folder: `<dataDir>/plugins/<name>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginDataDir } from "./paths.ts";
 * assert.equal(pluginDataDir("data", "task-tracker"), "data/plugins/task-tracker");
 * ```
 *
 * @param dataDir the host's data folder
 * @param name the plugin
 * @returns the plugin's folder
 * @throws {TypeError} for a name that is not a plugin name
 */
export function pluginDataDir(dataDir: string, name: string): string {
  checkName(name);
  return join(dataDir, "plugins", name);
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !PLUGIN_NAME_RE.test(name)) {
    throw new TypeError(
      `Cannot use storage for plugin ${JSON.stringify(name)}: not a plugin name (lowercase kebab-case, ` +
        `such as "task-tracker")`,
    );
  }
}
