/**
 * The host's side of storage: every plugin's database, opened on first use,
 * one file and one connection per plugin under `<dir>/plugins/<name>/`, and
 * purge. The old shared database is migrated on first use.
 *
 * @module
 */

import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { PluginError } from "../errors.ts";
import { PLUGIN_NAME_RE } from "../plugin_name.ts";
import type { PluginStorage } from "./kv.ts";
import { type LegacyMigrationReport, migrateLegacyStorage } from "./migrate_legacy.ts";
import { openPluginStorage, type PluginStore, STORAGE_FILE } from "./open.ts";
import { pluginDataDir } from "./paths.ts";
import type { PluginSql } from "./sql.ts";

/** Options for the host's {@linkcode Storage}. */
export interface StorageOptions {
  /**
   * The data folder: plugin `name` keeps its data in `<dir>/plugins/<name>/storage.db`.
   * `":memory:"` keeps every plugin's data in memory until `close()`.
   * @default "data"
   */
  dir?: string;
  /**
   * The old option, still understood: `":memory:"` is `dir: ":memory:"`;
   * a file path (the old shared database, such as `data/plugboard.db`) is
   * `dir` = its folder and `legacyFile` = the file.
   * @default undefined
   */
  path?: string;
  /**
   * The old shared database to migrate on first use; `null` for none.
   * @default "<dir>/plugboard.db"
   */
  legacyFile?: string | null;
  /** How long a statement waits for another process's lock before `StorageBusyError`, in ms. @default 100 */
  busyTimeoutMs?: number;
  /** Receives what the legacy migration moved, one line per plugin. @default console.info */
  log?: (message: string) => void;
}

/**
 * Every plugin's storage, as the host holds it. `kv(name)` and `sql(name)`
 * return handles that open the plugin's database on first use and again
 * after `purge(name)` or `close()`.
 *
 * @example Two plugins, two databases
 * ```ts
 * import assert from "node:assert/strict";
 * import { Storage } from "../storage.ts";
 * const storage = new Storage({ dir: ":memory:" });
 * storage.kv("counter").update<number>("hits", (n) => (n ?? 0) + 1);
 * assert.equal(storage.kv("counter").get("hits"), 1);
 * assert.equal(storage.kv("other").get("hits"), undefined);
 * assert.deepEqual(storage.purge("counter"), { keys: 1, tables: 0 });
 * storage.close();
 * ```
 */
export class Storage {
  #dir: string;
  #legacyFile: string | null;
  #busyTimeoutMs: number | undefined;
  #log: (message: string) => void;
  #stores = new Map<string, PluginStore>();
  #kv = new Map<string, PluginStorage>();
  #sql = new Map<string, PluginSql>();
  #legacyChecked = false;
  #legacyReport: LegacyMigrationReport | undefined;

  /**
   * Notes where the databases live; nothing is opened, and the old shared
   * database is not looked for, until a plugin's store is first used.
   *
   * @param options the data folder, the old file, the busy wait and a log
   * @throws {TypeError} when both `dir` and `path` are given
   */
  constructor(options: StorageOptions = {}) {
    if (options.dir !== undefined && options.path !== undefined) {
      throw new TypeError(
        `Cannot configure storage with both dir (${JSON.stringify(options.dir)}) and path ` +
          `(${JSON.stringify(options.path)}): use dir, the data folder`,
      );
    }
    const path = options.path;
    this.#dir = path === undefined ? options.dir ?? "data" : path === ":memory:" ? path : dirname(path);
    const defaultLegacy = this.#dir === ":memory:" ? null : path ?? join(this.#dir, "plugboard.db");
    this.#legacyFile = options.legacyFile === undefined ? defaultLegacy : options.legacyFile;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#log = options.log ?? ((message) => console.info(message));
  }

  /** The data folder, or `:memory:`. */
  get dir(): string {
    return this.#dir;
  }

  /** What the legacy migration moved, once it ran in this process. */
  get legacyReport(): LegacyMigrationReport | undefined {
    return this.#legacyReport;
  }

  /**
   * A plugin's open store (opened now if needed). Closing it makes the next
   * use open the database again.
   *
   * @param name the plugin
   * @returns its store
   * @throws {TypeError} for a name that is not a plugin name
   * @throws {PluginError} `PERMISSION_DENIED` when its folder cannot be written
   */
  store(name: string): PluginStore {
    let store = this.#stores.get(name);
    if (!store) {
      this.#migrateLegacy();
      const opened = openPluginStorage({
        name,
        dir: this.#dir === ":memory:" ? ":memory:" : pluginDataDir(this.#dir, name),
        busyTimeoutMs: this.#busyTimeoutMs,
      });
      // Closing it (here or by its owner) forgets it, so the next use reopens.
      const close = () => {
        opened.close();
        if (this.#stores.get(name) === store) this.#stores.delete(name);
      };
      store = { ...opened, close, [Symbol.dispose]: close };
      this.#stores.set(name, store);
    }
    return store;
  }

  /**
   * A plugin's key-value store (`ctx.storage`).
   *
   * @param name the plugin
   * @returns a handle that opens the database on first use
   */
  kv(name: string): PluginStorage {
    let kv = this.#kv.get(name);
    if (!kv) {
      checkName(name);
      const store = () => this.store(name).kv;
      kv = {
        get: (key) => store().get(key),
        set: (key, value) => store().set(key, value),
        add: (key, value) => store().add(key, value),
        delete: (key) => store().delete(key),
        list: (prefix) => store().list(prefix),
        update: (key, fn) => store().update(key, fn),
      };
      this.#kv.set(name, kv);
    }
    return kv;
  }

  /**
   * A plugin's own tables (`ctx.sql`).
   *
   * @param name the plugin
   * @returns a handle that opens the database on first use
   */
  sql(name: string): PluginSql {
    let sql = this.#sql.get(name);
    if (!sql) {
      checkName(name);
      const store = () => this.store(name).sql;
      sql = {
        table: (table) => store().table(table),
        migrate: (migrations) => store().migrate(migrations),
        exec: (text) => store().exec(text),
        all: (text, ...params) => store().all(text, ...params),
        get: (text, ...params) => store().get(text, ...params),
        run: (text, ...params) => store().run(text, ...params),
        transaction: (fn) => store().transaction(fn),
      };
      this.#sql.set(name, sql);
    }
    return sql;
  }

  /**
   * Deletes everything one plugin stored: its data folder (or in-memory
   * database). Names are exact. An open connection is closed first; later
   * use starts from an empty database. The host refuses this while the
   * plugin is active.
   *
   * @param name the plugin
   * @returns how many keys and tables were removed
   * @throws {PluginError} `NOT_FOUND` for a name that is not a plugin name
   */
  purge(name: string): { keys: number; tables: number } {
    if (typeof name !== "string" || !PLUGIN_NAME_RE.test(name)) {
      throw new PluginError(
        "NOT_FOUND",
        `Cannot purge the data of ${JSON.stringify(name)}: not a plugin name. Names are exact and lowercase ` +
          `kebab-case, such as "task-tracker"`,
        { plugin: typeof name === "string" ? name : undefined },
      );
    }
    this.#migrateLegacy();
    const memory = this.#dir === ":memory:";
    const dir = memory ? ":memory:" : pluginDataDir(this.#dir, name);
    const open = this.#stores.get(name);
    if (!open && (memory || !existsSync(join(dir, STORAGE_FILE)))) {
      if (!memory) rmSync(dir, { recursive: true, force: true });
      return { keys: 0, tables: 0 };
    }
    const store = open ?? this.store(name);
    const counts = {
      keys: store.kv.list().length,
      tables: store.sql.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'plugboard\\_%' ESCAPE '\\'`,
      )!.n,
    };
    store.close();
    this.#stores.delete(name);
    if (!memory) rmSync(dir, { recursive: true, force: true });
    return counts;
  }

  /** Closes every plugin's database (each reopens on next use; in-memory data is gone). */
  close(): void {
    for (const store of this.#stores.values()) store.close();
    this.#stores.clear();
  }

  /**
   * Moves the old shared database into per-plugin files now, if there is one
   * and it was not moved yet. The host calls it before any plugin starts: an
   * isolated plugin opens its own file in its worker, where nothing would
   * move its old data.
   *
   * @returns what was moved, or undefined when there was no old database
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Storage } from "../../mod.ts";
   * assert.equal(new Storage({ dir: ":memory:" }).migrateLegacy(), undefined);
   * ```
   */
  migrateLegacy(): LegacyMigrationReport | undefined {
    this.#migrateLegacy();
    return this.#legacyReport;
  }

  #migrateLegacy(): void {
    if (this.#legacyChecked) return;
    if (this.#legacyFile !== null) {
      this.#legacyReport = migrateLegacyStorage({
        legacyFile: this.#legacyFile,
        dataDir: this.#dir,
        busyTimeoutMs: this.#busyTimeoutMs,
        log: this.#log,
      });
    }
    this.#legacyChecked = true;
  }
}

function checkName(name: unknown): void {
  if (typeof name !== "string" || !PLUGIN_NAME_RE.test(name)) {
    throw new TypeError(
      `Cannot use storage for plugin ${JSON.stringify(name)}: not a plugin name (lowercase kebab-case, ` +
        `such as "task-tracker")`,
    );
  }
}
