/**
 * `plugboard.lock`: the pins of URL plugins, committed by the operator. One
 * entry per plugin source URL: the plugin's name and version, each module's
 * URL with the `sha256-<base64>` of its bytes as served (SRI style, as a
 * source's inline `integrity`), and the redirects seen.
 *
 * ```json
 * {
 *   "lockfileVersion": 1,
 *   "plugins": {
 *     "https://plugins.example.com/audit/mod.js": {
 *       "name": "audit",
 *       "version": "1.2.0",
 *       "modules": {
 *         "https://plugins.example.com/audit/lib/format.js": "sha256-...",
 *         "https://plugins.example.com/audit/mod.js": "sha256-..."
 *       }
 *     }
 *   }
 * }
 * ```
 *
 * Entries are keyed by source URL, not by plugin name: the source is known
 * before anything is fetched, the name only once the code has run, and
 * nothing runs before its pins are checked. The file is written with sorted
 * keys, two-space indent and a final newline, through a temporary file renamed
 * into place, so diffs stay small and a crash never leaves half a lock.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { RemoteError } from "./errors.ts";
import type { ModuleChange } from "./errors.ts";
import { isIntegrity } from "./integrity.ts";

/** The lock file's format version. */
export const LOCKFILE_VERSION = 1;
/** The lock file's default name. */
export const LOCK_FILE = "plugboard.lock";

/** What a lock records for one URL plugin. */
export interface LockEntry {
  /** The plugin's name, once known. */
  name?: string;
  /** The plugin's version, once known. */
  version?: string;
  /** Module URL (after redirects) → `sha256-<base64>` of its bytes as served. */
  modules: Record<string, string>;
  /** Redirects seen while fetching, from → to; omitted when none. */
  redirects?: Record<string, string>;
}

/** The pins of a graph as fetched now, to compare with a {@linkcode LockEntry}. */
export interface GraphPins {
  modules: Record<string, string>;
  redirects: Record<string, string>;
}

/**
 * Compares pins with what was fetched now.
 *
 * @param pinned the lock's entry
 * @param current the graph's pins now
 * @returns the changes, sorted by URL; empty when everything matches
 *
 * @example A changed helper
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffPins } from "./lock.ts";
 * const changes = diffPins(
 *   { modules: { "http://h:1/mod.js": "sha256-a", "http://h:1/helper.js": "sha256-b" } },
 *   { modules: { "http://h:1/mod.js": "sha256-a", "http://h:1/helper.js": "sha256-c" }, redirects: {} },
 * );
 * assert.deepEqual(changes, [{ url: "http://h:1/helper.js", kind: "changed", pinned: "sha256-b", current: "sha256-c" }]);
 * ```
 */
export function diffPins(pinned: LockEntry, current: GraphPins): ModuleChange[] {
  const changes: ModuleChange[] = [];
  const compare = (kind: "changed" | "redirect", before: Record<string, string>, now: Record<string, string>) => {
    for (const url of new Set([...Object.keys(before), ...Object.keys(now)])) {
      const a = before[url] ?? null;
      const b = now[url] ?? null;
      if (a === b) continue;
      changes.push({
        url,
        kind: kind === "redirect" ? "redirect" : a === null ? "added" : b === null ? "removed" : "changed",
        pinned: a,
        current: b,
      });
    }
  };
  compare("changed", pinned.modules, current.modules);
  compare("redirect", pinned.redirects ?? {}, current.redirects);
  return changes.sort((x, y) => (x.url < y.url ? -1 : x.url > y.url ? 1 : 0));
}

/**
 * Formats changes one per line, for messages and the admin API.
 *
 * @param changes from {@linkcode diffPins}
 * @returns lines such as `changed http://h/helper.js: pinned sha256-b, now sha256-c`
 *
 * @example One line per change
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatChanges } from "./lock.ts";
 * assert.equal(
 *   formatChanges([{ url: "http://h/a.js", kind: "added", pinned: null, current: "sha256-c" }]),
 *   "added http://h/a.js: not pinned, now sha256-c",
 * );
 * ```
 */
export function formatChanges(changes: readonly ModuleChange[]): string {
  return changes
    .map((c) =>
      `${c.kind} ${c.url}: ${c.pinned === null ? "not pinned" : `pinned ${c.pinned}`}, now ${c.current ?? "gone"}`
    )
    .join("\n");
}

/**
 * The pins of URL plugins, read from and written to `plugboard.lock`.
 *
 * @example Pin, save, read back
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { PluginLock } from "./lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await PluginLock.read(join(dir, "plugboard.lock"));
 * lock.set("http://127.0.0.1:1/mod.js", {
 *   name: "audit",
 *   version: "1.0.0",
 *   modules: { "http://127.0.0.1:1/mod.js": "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
 * });
 * await lock.write();
 * const again = await PluginLock.read(join(dir, "plugboard.lock"));
 * assert.equal(again.get("http://127.0.0.1:1/mod.js")?.name, "audit");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PluginLock {
  #path: string | undefined;
  #entries = new Map<string, LockEntry>();
  #dirty = false;

  /**
   * @param path where {@linkcode PluginLock.write} writes; undefined for an in-memory lock
   * @param entries entries by source URL
   */
  constructor(path?: string, entries: Record<string, LockEntry> = {}) {
    this.#path = path;
    for (const [source, entry] of Object.entries(entries)) this.#entries.set(source, normalize(entry));
  }

  /**
   * Reads a lock file; a missing file is an empty lock.
   *
   * @param path the file, such as `plugboard.lock`
   * @returns the lock
   * @throws {RemoteError} `REMOTE_LOCK_INVALID` for a file that is not a valid lock
   */
  static async read(path: string): Promise<PluginLock> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return new PluginLock(path);
      throw error;
    }
    return PluginLock.parse(text, path);
  }

  /**
   * Parses a lock file's text.
   *
   * @param text the JSON
   * @param path the file it came from (for messages and writes)
   * @returns the lock
   * @throws {RemoteError} `REMOTE_LOCK_INVALID`, naming the field
   *
   * @example Refuse a pin that is not sha256
   * ```ts
   * import assert from "node:assert/strict";
   * import { PluginLock } from "./lock.ts";
   * assert.throws(() => PluginLock.parse(`{"lockfileVersion":1,"plugins":{"x":{"modules":{"u":"md5-1"}}}}`), /"md5-1"/);
   * ```
   */
  static parse(text: string, path?: string): PluginLock {
    const where = path ?? LOCK_FILE;
    const invalid = (detail: string, cause?: unknown) =>
      new RemoteError(
        "REMOTE_LOCK_INVALID",
        `Cannot read ${where}: ${detail}. Fix the file, or delete it to pin every URL plugin again on its next load`,
        { source: where, cause },
      );
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (cause) {
      throw invalid(`it is not JSON (${(cause as Error).message})`, cause);
    }
    if (!isRecord(data) || data.lockfileVersion !== LOCKFILE_VERSION || !isRecord(data.plugins)) {
      throw invalid(`expected { "lockfileVersion": ${LOCKFILE_VERSION}, "plugins": { ... } }`);
    }
    const entries: Record<string, LockEntry> = {};
    for (const [source, entry] of Object.entries(data.plugins)) {
      if (!isRecord(entry) || !isRecord(entry.modules)) throw invalid(`plugins["${source}"].modules must be an object`);
      for (const [url, integrity] of Object.entries(entry.modules)) {
        if (typeof integrity !== "string" || !isIntegrity(integrity)) {
          throw invalid(
            `plugins["${source}"].modules["${url}"] must be "sha256-<base64>": current value is ${
              JSON.stringify(integrity)
            }`,
          );
        }
      }
      if (entry.redirects !== undefined && !isRecord(entry.redirects)) {
        throw invalid(`plugins["${source}"].redirects must be an object`);
      }
      entries[source] = entry as unknown as LockEntry;
    }
    return new PluginLock(path, entries);
  }

  /** The file this lock writes to, if any. */
  get path(): string | undefined {
    return this.#path;
  }

  /** True when entries changed since the lock was read or last written. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * The entry of a source.
   *
   * @param source the plugin's source URL
   * @returns a copy of its entry, or undefined when it is not pinned
   */
  get(source: string): LockEntry | undefined {
    const entry = this.#entries.get(source);
    return entry && structuredClone(entry);
  }

  /**
   * Pins a source (trust on first use, or a re-pin after an update).
   *
   * @param source the plugin's source URL
   * @param entry its name, version, modules and redirects
   */
  set(source: string, entry: LockEntry): void {
    this.#entries.set(source, normalize(entry));
    this.#dirty = true;
  }

  /**
   * Removes a source's pins.
   *
   * @param source the plugin's source URL
   * @returns true when it was pinned
   */
  delete(source: string): boolean {
    const had = this.#entries.delete(source);
    if (had) this.#dirty = true;
    return had;
  }

  /** @returns the pinned sources, sorted */
  sources(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /**
   * Compares a source's pins with a graph fetched now.
   *
   * @param source the plugin's source URL
   * @param current the graph's pins now
   * @returns the changes, or undefined when the source is not pinned
   */
  verify(source: string, current: GraphPins): ModuleChange[] | undefined {
    const entry = this.#entries.get(source);
    return entry && diffPins(entry, current);
  }

  /**
   * The lock file's text: sorted keys, two-space indent, final newline.
   *
   * @returns the JSON
   */
  stringify(): string {
    const plugins: Record<string, LockEntry> = {};
    for (const source of this.sources()) plugins[source] = this.#entries.get(source)!;
    return JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, plugins }, null, 2) + "\n";
  }

  /**
   * Writes the lock atomically (temporary file in the same folder, then rename).
   *
   * @param path where to write. @default the path it was read from
   * @param tmpDir where the temporary file goes (same file system as `path`), so that Deno's write
   *   permission can stay scoped to the lock file and a working folder. @default the folder of `path`
   * @throws {TypeError} when the lock has no path and none is given
   */
  async write(path: string | undefined = this.#path, tmpDir?: string): Promise<void> {
    if (!path) throw new TypeError("Cannot write the lock: it has no path; pass one to write(path)");
    if (tmpDir) await Deno.mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir ?? dirname(path), `.${LOCK_FILE}.${crypto.randomUUID()}.tmp`);
    try {
      await Deno.writeTextFile(tmp, this.stringify());
      await Deno.rename(tmp, path);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
    this.#path = path;
    this.#dirty = false;
  }
}

function sortRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function normalize(entry: LockEntry): LockEntry {
  return {
    ...(entry.name !== undefined ? { name: entry.name } : {}),
    ...(entry.version !== undefined ? { version: entry.version } : {}),
    modules: sortRecord(entry.modules),
    ...(entry.redirects && Object.keys(entry.redirects).length ? { redirects: sortRecord(entry.redirects) } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
