/**
 * Finds plugins on disk: every folder of the plugins folder that holds a
 * `mod.ts` (or `mod.js`). Folders starting with `.` or `_` are skipped.
 *
 * @module
 */

import { join } from "node:path";

/** A plugin found on disk. */
export interface Discovered {
  /** The folder's name, used until the manifest is read. */
  hint: string;
  /** The entry module's path. */
  source: string;
}

const ENTRY_NAMES = ["mod.ts", "mod.js"];

/**
 * Lists the plugins in a folder, sorted by folder name.
 *
 * @param dir the plugins folder
 * @returns what was found; empty when the folder does not exist
 *
 * @example
 * ```ts
 * import { discoverPlugins } from "./discovery.ts";
 * const found = await discoverPlugins("/nonexistent");
 * if (found.length !== 0) throw new Error();
 * ```
 */
export async function discoverPlugins(dir: string): Promise<Discovered[]> {
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
    for (const file of ENTRY_NAMES) {
      const source = join(dir, entry.name, file);
      try {
        if ((await Deno.stat(source)).isFile) {
          found.push({ hint: entry.name, source });
          break;
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }
  return found;
}
