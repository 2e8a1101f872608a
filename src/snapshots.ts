/**
 * Versioned snapshots of a local plugin's folder, so that a reload
 * re-imports every file of the plugin and not only its entry module.
 *
 * Deno keys modules by URL: a cache-busting query on `mod.ts` gives a fresh
 * `mod.ts`, but its `./service.ts` still resolves to the cached module. A copy
 * of the folder at `<parent>/.<folder>@<n>/` gives every file of the plugin a
 * new URL, while imports that leave the folder (`../../mod.ts`, `npm:`) still
 * resolve to the same modules, because the copy sits at the same depth.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** Snapshot folders are named `.<folder>@<generation>`. */
export const SNAPSHOT_RE = /^\..+@\d+$/;

const SKIP = new Set(["node_modules", ".git"]);

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.name.startsWith(".") || SKIP.has(entry.name)) continue;
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory) await copyTree(src, dst);
    else if (entry.isFile) await Deno.copyFile(src, dst);
  }
}

/**
 * Tells whether snapshots can be written next to a plugin folder.
 *
 * @param dir the plugin folder
 * @returns true when Deno may write to its parent
 */
export async function canSnapshot(dir: string): Promise<boolean> {
  const status = await Deno.permissions.query({ name: "write", path: dirname(dir) });
  return status.state === "granted";
}

/**
 * Copies a plugin folder to `<parent>/.<folder>@<generation>/`.
 *
 * @param dir the plugin folder
 * @param generation a number unique to this copy
 * @returns the copy's path
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { removeSnapshot, snapshotPlugin } from "./snapshots.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(join(root, "p"));
 * await Deno.writeTextFile(join(root, "p", "mod.ts"), "export default 1;");
 * const copy = await snapshotPlugin(join(root, "p"), 3);
 * assert.ok(copy.endsWith(".p@3"), copy);
 * await removeSnapshot(copy);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function snapshotPlugin(dir: string, generation: number): Promise<string> {
  const copy = join(dirname(dir), `.${basename(dir)}@${generation}`);
  await Deno.remove(copy, { recursive: true }).catch(() => {});
  await copyTree(dir, copy);
  return copy;
}

/**
 * Removes a snapshot; a missing one is fine.
 *
 * @param copy the snapshot's path
 */
export async function removeSnapshot(copy: string): Promise<void> {
  try {
    await Deno.remove(copy, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Removes snapshots a previous run left behind in a plugins folder.
 *
 * @param pluginsDir the plugins folder
 * @returns how many were removed
 */
export async function removeStaleSnapshots(pluginsDir: string): Promise<number> {
  let n = 0;
  try {
    for await (const entry of Deno.readDir(pluginsDir)) {
      if (entry.isDirectory && SNAPSHOT_RE.test(entry.name)) {
        await removeSnapshot(join(pluginsDir, entry.name));
        n++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}
