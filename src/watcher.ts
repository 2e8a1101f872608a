/**
 * Watches a plugins folder and reports, per plugin folder, that it changed
 * or disappeared: once per save. Editors write a burst of events per save
 * (truncate then write, a temporary file renamed over the original, several
 * files at once); the watcher reacts to the first event, waits until the
 * folder has been quiet for a short settle window and the touched files have
 * stopped changing, then reports once.
 *
 * @module
 */

import { join, relative, sep } from "node:path";

/** What happened to a plugin folder. */
export type FolderChange = "changed" | "removed";

/** Options for {@linkcode watchPluginFolders}. */
export interface WatchOptions {
  /**
   * Quiet time after a folder's last event before it is reported, in ms: the
   * events of one save arrive within a few ms of each other. @default 10
   */
  settleMs?: number;
  /**
   * The longest a report waits after a folder's first event, in ms, even if
   * events keep coming (a long copy into the folder). @default 250
   */
  maxWaitMs?: number;
  /**
   * @deprecated Use `settleMs`: the quiet time before a report (it was the
   * whole delay of the former 80 ms debounce). Read only when `settleMs` is unset.
   */
  debounceMs?: number;
}

/** A running watch. */
export interface FolderWatch {
  /** Stops watching; pending reports are dropped. */
  close(): void;
}

/** The settle window, in ms, when none is given. */
export const DEFAULT_SETTLE_MS = 10;
/** The longest wait after a folder's first event, in ms, when none is given. */
export const DEFAULT_MAX_WAIT_MS = 250;

const IGNORED_FILE_RE = /(^\.|~$|\.sw[px]$|^4913$)/;

/** One folder's burst of events, not reported yet. */
interface Pending {
  /** The files touched, whose size and mtime must settle. */
  paths: Set<string>;
  /** When the first event of the burst arrived (performance.now()). */
  firstAt: number;
  /** When the latest event arrived. */
  lastAt: number;
  /** The files' size and mtime at the previous settle check. */
  signature?: string;
  timer?: ReturnType<typeof setTimeout>;
}

/** The touched files' state: size and mtime of each (missing ones included), and the newest mtime. */
async function stateOf(paths: Iterable<string>): Promise<{ signature: string; newest: number }> {
  let newest = 0;
  const parts = await Promise.all(
    [...paths].sort().map(async (p) => {
      try {
        const s = await Deno.stat(p);
        const m = s.mtime?.getTime() ?? Infinity;
        newest = Math.max(newest, m);
        return `${p}:${s.size}:${m}`;
      } catch {
        return `${p}:-`;
      }
    }),
  );
  return { signature: parts.join("|"), newest };
}

/**
 * Watches `pluginsDir` recursively and reports each plugin folder once per
 * burst of events. Dot-folders (such as reload snapshots), `_`-folders and
 * editor temp files are ignored.
 *
 * A burst ends when no event arrived for `settleMs` and the touched files
 * have stopped changing: at the end of the quiet time each touched file is
 * stat'ed once, and if none was modified during the quiet time the folder is
 * reported (a save costs about `settleMs` plus those `Deno.stat` calls);
 * otherwise the check is repeated `settleMs` later until two checks in a row
 * see the same size and mtime for every file. A burst that never settles is
 * reported `maxWaitMs` after its first event. Events that arrive after the
 * report start a new burst (a new save, a new report).
 *
 * @param pluginsDir the folder holding one folder per plugin
 * @param onChange called with the plugin folder's path and what happened
 * @param options the settle window and the cap
 * @returns a handle to stop watching
 *
 * @example Report one save of a plugin
 * ```ts
 * import { watchPluginFolders } from "./watcher.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/hello`);
 * const seen: string[] = [];
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const watch = watchPluginFolders(dir, (folder, change) => {
 *   seen.push(`${folder.slice(dir.length)} ${change}`);
 *   resolve();
 * });
 * await new Promise((r) => setTimeout(r, 50)); // let the watch start
 * await Deno.writeTextFile(`${dir}/hello/mod.ts`, "export default {};");
 * await promise;
 * watch.close();
 * if (seen[0] !== "/hello changed") throw new Error(seen.join());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchPluginFolders(
  pluginsDir: string,
  onChange: (folder: string, change: FolderChange) => void,
  options: WatchOptions = {},
): FolderWatch {
  const settle = options.settleMs ?? options.debounceMs ?? DEFAULT_SETTLE_MS;
  const maxWait = Math.max(settle, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  if (!(settle >= 0)) {
    throw new RangeError(`Cannot watch as 'settleMs' must be a non-negative number: current value is ${settle}`);
  }
  const watcher = Deno.watchFs(pluginsDir, { recursive: true });
  const pending = new Map<string, Pending>();
  let closed = false;

  const report = async (folder: string) => {
    pending.delete(folder);
    let change: FolderChange = "removed";
    for (const entry of ["mod.ts", "mod.js"]) {
      try {
        await Deno.stat(join(folder, entry));
        change = "changed";
        break;
      } catch { /* not there */ }
    }
    if (!closed) onChange(folder, change);
  };

  const check = async (folder: string, burst: Pending) => {
    burst.timer = undefined;
    const now = performance.now();
    const quietFor = now - burst.lastAt;
    const overdue = now - burst.firstAt >= maxWait;
    if (!overdue && quietFor < settle) {
      burst.timer = setTimeout(() => check(folder, burst), settle - quietFor);
      return;
    }
    const { signature, newest } = await stateOf(burst.paths);
    // An event during the stat restarted the quiet time: wait for it.
    if (closed || pending.get(folder) !== burst || burst.timer !== undefined) return;
    // Settled: the same state as at the previous check, or, at the first
    // check, no file written during the quiet time (file times are wall-clock).
    const settled = signature === burst.signature || (burst.signature === undefined && newest <= Date.now() - settle);
    if (settled || overdue || performance.now() - burst.firstAt >= maxWait) {
      await report(folder);
      return;
    }
    burst.signature = signature;
    burst.timer = setTimeout(() => check(folder, burst), Math.max(1, settle));
  };

  const noteEvent = (folder: string, path: string) => {
    const now = performance.now();
    let burst = pending.get(folder);
    if (!burst) {
      burst = { paths: new Set(), firstAt: now, lastAt: now };
      pending.set(folder, burst);
    }
    burst.paths.add(path);
    burst.lastAt = now;
    burst.signature = undefined;
    const b = burst;
    clearTimeout(b.timer);
    const left = Math.min(settle, Math.max(0, b.firstAt + maxWait - now));
    b.timer = setTimeout(() => check(folder, b), left);
  };

  (async () => {
    try {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const parts = relative(pluginsDir, path).split(sep);
          const top = parts[0];
          if (!top || top.startsWith("..") || top.startsWith(".") || top.startsWith("_")) continue;
          if (IGNORED_FILE_RE.test(parts[parts.length - 1])) continue;
          noteEvent(join(pluginsDir, top), path);
        }
      }
    } catch {
      // The watcher was closed.
    }
  })();
  return {
    close() {
      closed = true;
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
      try {
        watcher.close();
      } catch { /* already closed */ }
    },
  };
}
