/**
 * Fresh copies of a snapshot for re-imports within one process. Deno keys
 * modules by URL, so importing an unchanged snapshot again returns the module
 * instances already evaluated; a reload that must evaluate the plugin afresh
 * imports a copy at `<root>/<graph hash>@<generation>/`, as local plugins do
 * with `.<folder>@<n>/`. Also the clean-up of copies and of snapshots no lock
 * entry names.
 *
 * @module
 */

import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { PluginLock } from "./lock.ts";
import type { RemotePlugin } from "./resolve.ts";
import { graphHash } from "./snapshot.ts";

/** Copy folders are named `<64 hex>@<generation>`. */
export const COPY_RE = /^[0-9a-f]{64}@\d+$/;

/** A copy of a snapshot. */
export interface SnapshotCopy {
  dir: string;
  entryPath: string;
  entryUrl: string;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  const copies: Promise<void>[] = [];
  for await (const entry of Deno.readDir(from)) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory) copies.push(copyTree(src, dst));
    else if (entry.isFile) copies.push(Deno.copyFile(src, dst));
  }
  await Promise.all(copies);
}

/**
 * Copies a resolved plugin's snapshot to `<dir>@<generation>/`.
 *
 * @param plugin from `resolveRemotePlugin`
 * @param generation a number unique to this copy within the process
 * @returns the copy's folder and entry
 *
 * @example Import a copy
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { copySnapshot, removeSnapshotCopy } from "./snapshot_copies.ts";
 * const root = await Deno.makeTempDir();
 * const dir = join(root, "a".repeat(64));
 * await Deno.mkdir(join(dir, "http_h_1"), { recursive: true });
 * await Deno.writeTextFile(join(dir, "http_h_1", "mod.js"), "export default 1;");
 * const copy = await copySnapshot({ dir, entryPath: join(dir, "http_h_1", "mod.js") }, 2);
 * assert.equal((await import(copy.entryUrl)).default, 1);
 * await removeSnapshotCopy(copy.dir);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function copySnapshot(
  plugin: Pick<RemotePlugin, "dir" | "entryPath">,
  generation: number,
): Promise<SnapshotCopy> {
  const dir = `${plugin.dir}@${generation}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await copyTree(plugin.dir, dir);
  const entryPath = join(dir, relative(plugin.dir, plugin.entryPath));
  return { dir, entryPath, entryUrl: pathToFileURL(entryPath).href };
}

/**
 * Removes a copy; a missing one is fine.
 *
 * @param dir the copy's folder
 *
 * @example Removing twice is fine
 * ```ts
 * import { removeSnapshotCopy } from "./snapshot_copies.ts";
 * const dir = await Deno.makeTempDir();
 * await removeSnapshotCopy(dir); // removes it
 * await removeSnapshotCopy(dir); // already gone: fine
 * ```
 */
export async function removeSnapshotCopy(dir: string): Promise<void> {
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Removes what a previous run left in the snapshot root: copies, temporary
 * folders, and (given a lock) snapshots of graphs that no lock entry pins.
 *
 * @param root the snapshot root
 * @param lock when given, snapshots of graphs it does not pin are removed too
 * @returns the names removed
 *
 * @example Clean up after a crash
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { PluginLock } from "./lock.ts";
 * import { removeStaleRemoteSnapshots } from "./snapshot_copies.ts";
 * const root = await Deno.makeTempDir();
 * const graph = "b".repeat(64);
 * for (const name of [graph, `${graph}@3`, ".tmp-abc"]) await Deno.mkdir(join(root, name));
 * assert.deepEqual(await removeStaleRemoteSnapshots(root), [".tmp-abc", `${graph}@3`]);
 * assert.deepEqual(await removeStaleRemoteSnapshots(root, new PluginLock()), [graph]); // no lock entry pins it
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function removeStaleRemoteSnapshots(root: string, lock?: PluginLock): Promise<string[]> {
  const keep = new Set(
    lock?.sources().map((source) => {
      const entry = lock.get(source)!;
      return graphHash(source, entry.modules, entry.redirects ?? {});
    }),
  );
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      const stale = COPY_RE.test(entry.name) || entry.name.startsWith(".tmp-") ||
        (lock !== undefined && /^[0-9a-f]{64}$/.test(entry.name) && !keep.has(entry.name));
      if (entry.isDirectory && stale) {
        await removeSnapshotCopy(join(root, entry.name));
        removed.push(entry.name);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return removed.sort();
}
