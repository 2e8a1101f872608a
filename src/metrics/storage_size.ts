/**
 * The size of a plugin's data folder on disk.
 *
 * @module
 */

import { join } from "node:path";
import { pluginDataDir } from "../storage/paths.ts";

/** The most entries walked; a bigger folder is reported as at least what was counted. */
const MAX_ENTRIES = 10_000;

/**
 * Bytes of a plugin's data folder (`<dataDir>/plugins/<name>`), every file
 * below it counted, symbolic links not followed.
 *
 * @param dataDir the host's data folder
 * @param name the plugin
 * @returns the bytes, 0 for no folder, or undefined when it cannot be read
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { storageBytes } from "./storage_size.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(join(dir, "plugins", "hello"), { recursive: true });
 * await Deno.writeTextFile(join(dir, "plugins", "hello", "a.txt"), "12345");
 * assert.equal(storageBytes(dir, "hello"), 5);
 * assert.equal(storageBytes(dir, "other"), 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function storageBytes(dataDir: string, name: string): number | undefined {
  let total = 0;
  let seen = 0;
  const walk = (dir: string): void => {
    for (const entry of Deno.readDirSync(dir)) {
      if (++seen > MAX_ENTRIES) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) total += Deno.lstatSync(path).size;
    }
  };
  try {
    walk(pluginDataDir(dataDir, name));
    return total;
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? 0 : undefined;
  }
}
