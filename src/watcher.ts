/**
 * Watches a plugins folder and reports, per plugin folder, that it changed
 * or disappeared, debounced (editors write several events per save).
 *
 * @module
 */

import { join, relative, sep } from "node:path";

/** What happened to a plugin folder. */
export type FolderChange = "changed" | "removed";

/** Options for {@linkcode watchPluginFolders}. */
export interface WatchOptions {
  /** Quiet time after the last event before reporting, in ms. @default 80 */
  debounceMs?: number;
}

/** A running watch. */
export interface FolderWatch {
  /** Stops watching; pending reports are dropped. */
  close(): void;
}

const IGNORED_FILE_RE = /(^\.|~$|\.sw[px]$|^4913$)/;

/**
 * Watches `pluginsDir` recursively. Dot-folders (such as reload snapshots)
 * and editor temp files are ignored.
 *
 * @param pluginsDir the folder holding one folder per plugin
 * @param onChange called with the plugin folder's path and what happened
 * @param options debounce
 * @returns a handle to stop watching
 */
export function watchPluginFolders(
  pluginsDir: string,
  onChange: (folder: string, change: FolderChange) => void,
  options: WatchOptions = {},
): FolderWatch {
  const debounce = options.debounceMs ?? 80;
  const watcher = Deno.watchFs(pluginsDir, { recursive: true });
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const report = (folder: string) => {
    clearTimeout(timers.get(folder));
    timers.set(
      folder,
      setTimeout(async () => {
        timers.delete(folder);
        let change: FolderChange = "removed";
        for (const entry of ["mod.ts", "mod.js"]) {
          try {
            await Deno.stat(join(folder, entry));
            change = "changed";
            break;
          } catch { /* not there */ }
        }
        onChange(folder, change);
      }, debounce),
    );
  };
  (async () => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const parts = relative(pluginsDir, path).split(sep);
          const top = parts[0];
          if (!top || top.startsWith("..") || top.startsWith(".") || top.startsWith("_")) continue;
          if (IGNORED_FILE_RE.test(parts[parts.length - 1])) continue;
          report(join(pluginsDir, top));
        }
      }
    } catch {
      // The watcher was closed.
    }
  })();
  return {
    close() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      try {
        watcher.close();
      } catch { /* already closed */ }
    },
  };
}
