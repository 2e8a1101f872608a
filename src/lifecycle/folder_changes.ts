/**
 * What a change in the plugins folder means: a changed plugin folder is
 * reloaded, a new one loaded, a removed one unloaded with its dependents.
 *
 * @module
 */

import { resolve, sep } from "node:path";
import { findEntry } from "../discovery.ts";
import type { Logger } from "../logger.ts";
import { isUrlSource } from "../permissions.ts";
import type { PluginInfo } from "../plugin_info.ts";
import type { FolderChange } from "../watcher.ts";

/** The host operations a folder change leads to. */
export interface FolderChangeTarget {
  cwd: string;
  log: Logger;
  list(): PluginInfo[];
  load(source: string): Promise<unknown>;
  reload(name: string): Promise<unknown>;
  unload(name: string, options: { cascade: boolean }): Promise<unknown>;
}

/**
 * Acts on one plugin folder's change.
 *
 * @param target the host
 * @param folder the plugin folder's absolute path
 * @param change what happened to it
 * @returns when the resulting load, reload or unload is done
 */
export async function onFolderChange(target: FolderChangeTarget, folder: string, change: FolderChange): Promise<void> {
  const inFolder = target.list().find((p) =>
    !isUrlSource(p.source) && resolve(target.cwd, p.source).startsWith(folder + sep)
  );
  if (change === "removed") {
    if (!inFolder) return;
    target.log.info(`Plugin folder ${folder} was removed: unloading "${inFolder.name}"`);
    await target.unload(inFolder.name, { cascade: true });
    return;
  }
  if (inFolder && inFolder.state !== "unloaded") {
    target.log.info(`Plugin folder ${folder} changed: reloading "${inFolder.name}"`);
    await target.reload(inFolder.name);
    return;
  }
  const entry = await findEntry(folder);
  if (!entry) return;
  target.log.info(`New plugin folder ${folder}: loading it`);
  await target.load(entry);
}
