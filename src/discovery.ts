/**
 * Finds plugins on disk: every folder of the plugins folder that holds a
 * `mod.ts` (or `mod.js`). Folders starting with `.` or `_` are skipped.
 *
 * @module
 */

import { join } from "node:path";
import { SettingsError } from "./errors.ts";

/** A plugin found on disk. */
export interface Discovered {
  /** The folder's name, used until the manifest is read. */
  hint: string;
  /** The entry module's path. */
  source: string;
}

/** The file names a plugin folder's entry module may have, in order of preference. */
export const ENTRY_NAMES: readonly string[] = ["mod.ts", "mod.js"];

/**
 * The entry module of a plugin folder.
 *
 * @param folder a plugin's folder
 * @returns the path of its `mod.ts` (or `mod.js`), or undefined when it has none
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findEntry } from "./discovery.ts";
 * assert.equal(await findEntry("/nonexistent"), undefined);
 * ```
 */
export async function findEntry(folder: string): Promise<string | undefined> {
  for (const file of ENTRY_NAMES) {
    const path = join(folder, file);
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return undefined;
}

/**
 * Lists the plugins in a folder, sorted by folder name.
 *
 * @param dir the plugins folder
 * @returns what was found; empty when the folder does not exist
 * @throws {SettingsError} when Deno may not read the folder, naming the flag to add
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { discoverPlugins } from "./discovery.ts";
 * const found = await discoverPlugins("/nonexistent");
 * assert.deepEqual(found, []);
 * ```
 */
export async function discoverPlugins(dir: string): Promise<Discovered[]> {
  assertReadableFolder(dir);
  const found: Discovered[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!(entry.isDirectory || entry.isSymlink) || entry.name.startsWith(".") || entry.name.startsWith("_")) continue;
    const source = await findEntry(join(dir, entry.name));
    if (source) found.push({ hint: entry.name, source });
  }
  return found;
}

/**
 * Checks that Deno may read the plugins folder, before anything reads it,
 * so the refusal names the folder and the flag instead of Deno's bare
 * `NotCapable`.
 *
 * @param dir the absolute plugins folder
 * @throws {SettingsError} naming the folder and the `--allow-read` to add
 *
 * @example
 * ```ts
 * import { assertReadableFolder } from "./discovery.ts";
 * assertReadableFolder(Deno.cwd()); // the tests may read the project
 * ```
 */
export function assertReadableFolder(dir: string): void {
  if (Deno.permissions.querySync({ name: "read", path: dir }).state === "granted") return;
  throw new SettingsError(
    `Cannot read the plugins folder "${dir}": it is outside Deno's --allow-read. ` +
      `Add it (--allow-read=${dir}) or choose a plugins folder inside the allowed folders`,
  );
}
