/**
 * Opens one plugin's storage from nothing but its name and data folder, so
 * it can run wherever the plugin runs (the host, or a Worker allowed to read
 * and write that folder only).
 *
 * @module
 */

import { PLUGIN_NAME_RE } from "../plugin_name.ts";
import { PluginDatabase } from "./_database.ts";
import { createKv, type PluginStorage } from "./kv.ts";
import { createSql, type PluginSql } from "./sql.ts";

/**
 * The database file's name inside a plugin's data folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage, STORAGE_FILE } from "./open.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using store = openPluginStorage({ name: "tasks", dir });
 *   assert.equal(store.file, `${dir}/${STORAGE_FILE}`);
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export const STORAGE_FILE = "storage.db";

/**
 * The busy wait of a plugin database, in ms: how long a statement blocks on
 * another connection's lock before `StorageBusyError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BUSY_TIMEOUT_MS } from "./open.ts";
 * assert.ok(DEFAULT_BUSY_TIMEOUT_MS <= 100);
 * ```
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 100;

/** Options for {@linkcode openPluginStorage}. */
export interface OpenPluginStorageOptions {
  /** The plugin's name (lowercase kebab-case). */
  name: string;
  /**
   * The plugin's data folder, created if missing; its database is
   * `<dir>/storage.db`. `":memory:"` for a throwaway database.
   */
  dir: string;
  /**
   * How long a statement waits for a lock held by another connection before
   * throwing `StorageBusyError`, in ms. The wait blocks the thread, so keep it short.
   * @default 100
   */
  busyTimeoutMs?: number;
}

/** One plugin's open storage. */
export interface PluginStore {
  /** The plugin. */
  readonly name: string;
  /** The database file, or `:memory:`. */
  readonly file: string;
  /** The key-value store (`ctx.storage`). */
  readonly kv: PluginStorage;
  /** The plugin's tables (`ctx.sql`). */
  readonly sql: PluginSql;
  /** Closes the database; the store is unusable afterwards. */
  close(): void;
  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Opens (creating if needed) one plugin's database: its own file and
 * connection, so no statement, trigger or transaction of another plugin can
 * reach it.
 *
 * @example Keys and tables of one plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage } from "./open.ts";
 * using store = openPluginStorage({ name: "notes", dir: ":memory:" });
 * store.kv.set("theme", "dark");
 * store.sql.migrate([{ version: 1, up: "CREATE TABLE {{notes}} (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT)" }]);
 * store.sql.transaction(() => {
 *   store.sql.run("INSERT INTO {{notes}} (text) VALUES (?)", "hello");
 *   store.kv.update<number>("count", (n) => (n ?? 0) + 1);
 * });
 * assert.deepEqual(store.sql.all("SELECT text FROM notes"), [{ text: "hello" }]);
 * assert.equal(store.kv.get("count"), 1);
 * ```
 *
 * @param options the plugin's name and data folder
 * @returns its store
 * @throws {TypeError} for a bad name, folder or busy timeout
 * @throws {PluginError} `PERMISSION_DENIED` when the folder cannot be created or the file opened
 * @throws {StorageBusyError} when another process holds the lock while a new database is set up
 */
export function openPluginStorage(options: OpenPluginStorageOptions): PluginStore {
  const { name, dir } = options ?? {};
  checkName(name);
  if (typeof dir !== "string" || dir.length === 0) {
    throw new TypeError(
      `Cannot open the storage of plugin "${name}": dir must be a folder path or ":memory:", got ${
        JSON.stringify(dir)
      }`,
    );
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 60_000) {
    throw new RangeError(
      `Cannot open the storage of plugin "${name}": busyTimeoutMs must be an integer from 0 to 60000: ` +
        `current value is ${busyTimeoutMs}`,
    );
  }
  const file = dir === ":memory:" ? dir : fileIn(dir, STORAGE_FILE);
  const database = new PluginDatabase(name, dir, file, busyTimeoutMs);
  const close = () => database.close();
  return { name, file, kv: createKv(database), sql: createSql(database), close, [Symbol.dispose]: close };
}

/**
 * A file in a folder. Not `node:path`: this module runs in every plugin's
 * worker, and the first `node:` module a worker imports costs it tens of
 * milliseconds of start-up (measured: 24 ms for `node:path`, 39 ms with
 * `node:fs`, against 15 ms for an empty worker).
 */
function fileIn(dir: string, file: string): string {
  const last = dir[dir.length - 1];
  return last === "/" || last === SEP ? `${dir}${file}` : `${dir}${SEP}${file}`;
}

const SEP = Deno.build.os === "windows" ? "\\" : "/";

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !PLUGIN_NAME_RE.test(name)) {
    throw new TypeError(
      `Cannot use storage for plugin ${JSON.stringify(name)}: not a plugin name (lowercase kebab-case, ` +
        `such as "task-tracker")`,
    );
  }
}
