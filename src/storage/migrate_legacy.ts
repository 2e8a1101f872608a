/**
 * Moves the data of the old single shared database (`data/plugboard.db`:
 * tables `plugboard_kv` and `plugboard_migrations` keyed by plugin, and each
 * plugin's tables named `<prefix>__<table>`) into one database per plugin,
 * once, then renames the old file `plugboard.db.migrated`.
 *
 * @module
 */

import { existsSync, renameSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { PLUGIN_NAME_RE } from "../plugin_name.ts";
import { PluginDatabase } from "./_database.ts";
import { DEFAULT_BUSY_TIMEOUT_MS, STORAGE_FILE } from "./open.ts";
import { pluginDataDir } from "./paths.ts";
import { join } from "node:path";

/** Options for {@linkcode migrateLegacyStorage}. */
export interface MigrateLegacyOptions {
  /** The old shared database file. */
  legacyFile: string;
  /** The host's data folder; each plugin's data goes to `<dataDir>/plugins/<name>/storage.db`. */
  dataDir: string;
  /** The busy wait of each database, in ms. @default 100 */
  busyTimeoutMs?: number;
  /** Receives one line per plugin moved or skipped. @default no logging */
  log?: (message: string) => void;
}

/** What moved for one plugin. */
export interface LegacyPluginReport {
  /** The plugin. */
  name: string;
  /** Keys copied (a key already in the new database is kept as it is). */
  keys: number;
  /** Tables copied, by their new names. */
  tables: string[];
  /** Applied migration versions copied. */
  migrations: number;
  /** Why nothing was copied, if so (already migrated). */
  skipped?: string;
}

/** What {@linkcode migrateLegacyStorage} did. */
export interface LegacyMigrationReport {
  /** The old file. */
  from: string;
  /** Where the old file is now. */
  renamedTo: string;
  /** One entry per plugin found in it. */
  plugins: LegacyPluginReport[];
}

/**
 * Moves every plugin's keys, applied migrations and tables from the old
 * shared database into its own database, then renames the old file. Each
 * plugin is copied in one transaction of its new database, marked done in
 * it, and skipped if already marked, so an interrupted run, or two
 * processes starting together, copy each plugin once. Table names lose
 * their prefix (`task_tracker__completions` becomes `completions`, which
 * `{{completions}}` now stands for).
 *
 * @example Nothing to do without an old file
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrateLegacyStorage } from "./migrate_legacy.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(migrateLegacyStorage({ legacyFile: `${dir}/plugboard.db`, dataDir: dir }), undefined);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param options the old file, the data folder and a log
 * @returns what moved, or undefined when there is no old file
 * @throws {StorageBusyError} when a plugin's new database stays locked (nothing of that plugin is copied; run again)
 */
export function migrateLegacyStorage(options: MigrateLegacyOptions): LegacyMigrationReport | undefined {
  const { legacyFile, dataDir } = options;
  const log = options.log ?? (() => {});
  if (!existsSync(legacyFile)) return undefined;
  const legacy = new DatabaseSync(legacyFile);
  const plugins: LegacyPluginReport[] = [];
  try {
    legacy.exec("PRAGMA busy_timeout = 5000");
    for (const name of legacyPlugins(legacy, log)) {
      const report = migratePlugin(name, legacy, dataDir, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
      plugins.push(report);
      const target = join(pluginDataDir(dataDir, name), STORAGE_FILE);
      log(
        report.skipped
          ? `Legacy storage of plugin "${name}" not copied: ${report.skipped}`
          : `Moved the storage of plugin "${name}" from ${legacyFile} to ${target}: ${report.keys} keys, ` +
            `${report.migrations} migrations, tables ${report.tables.length ? report.tables.join(", ") : "none"}`,
      );
    }
  } finally {
    legacy.close();
  }
  let renamedTo = `${legacyFile}.migrated`;
  if (existsSync(renamedTo)) renamedTo = `${legacyFile}.migrated-${Date.now()}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      renameSync(legacyFile + suffix, renamedTo + suffix);
    } catch (error) {
      // Another process starting at the same time renamed it first; -wal and -shm are often gone.
      if ((error as { code?: string }).code !== "ENOENT" && !(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  log(`Renamed the old shared database ${legacyFile} to ${renamedTo}`);
  return { from: legacyFile, renamedTo, plugins };
}

/** The plugins that have data in the old file: names from its tables, table prefixes mapped back. */
function legacyPlugins(legacy: DatabaseSync, log: (message: string) => void): string[] {
  const names = new Set<string>();
  const has = (table: string) => legacy.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(table) !== undefined;
  for (const table of ["plugboard_kv", "plugboard_migrations"]) {
    if (!has(table)) continue;
    for (const r of legacy.prepare(`SELECT DISTINCT plugin FROM ${table}`).all() as { plugin: string }[]) {
      names.add(r.plugin);
    }
  }
  const objects = legacy.prepare(
    "SELECT name FROM sqlite_master WHERE sql IS NOT NULL AND instr(name, '__') > 1 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
  ).all() as { name: string }[];
  // Plugin names are kebab-case, so the prefix `task_tracker__` maps back to exactly `task-tracker`.
  for (const { name } of objects) names.add(name.slice(0, name.indexOf("__")).replaceAll("_", "-"));
  return [...names].filter((name) => {
    if (PLUGIN_NAME_RE.test(name)) return true;
    log(`Legacy storage names "${name}", which is not a plugin name; its data stays in the old file`);
    return false;
  }).sort();
}

function migratePlugin(
  name: string,
  legacy: DatabaseSync,
  dataDir: string,
  busyTimeoutMs: number,
): LegacyPluginReport {
  const dir = pluginDataDir(dataDir, name);
  const database = new PluginDatabase(name, dir, join(dir, STORAGE_FILE), busyTimeoutMs);
  const db = database.db;
  const prefix = `${name.replaceAll("-", "_")}__`;
  const report: LegacyPluginReport = { name, keys: 0, tables: [], migrations: 0 };
  const legacyHas = (table: string) =>
    legacy.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(table) !== undefined;
  const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;
  /** Streams rows from the old file into the new one (ATTACH is off unless Deno runs with --allow-all). */
  const copy = (table: string, columns: string[], where: string, params: SQLInputValue[], into: string) => {
    const list = columns.map(quote).join(", ");
    const source = legacy.prepare(`SELECT ${list} FROM ${quote(table)} ${where}`);
    source.setReadBigInts(true); // integers beyond 2^53 keep their value
    const target = db.prepare(
      `INSERT OR IGNORE INTO ${quote(into)} (${list}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    let n = 0;
    for (const row of source.iterate(...params)) {
      n += Number(target.run(...columns.map((c) => row[c] as SQLInputValue)).changes);
    }
    return n;
  };
  try {
    database.transaction(`copy the legacy storage of "${name}"`, () => {
      const done = db.prepare("SELECT value FROM plugboard_meta WHERE key = 'legacy_migrated'").get() as
        | { value: string }
        | undefined;
      if (done) {
        report.skipped = `already copied on ${done.value}`;
        return;
      }
      if (legacyHas("plugboard_kv")) {
        report.keys = copy("plugboard_kv", ["key", "value", "updated_at"], "WHERE plugin = ?", [name], "plugboard_kv");
      }
      if (legacyHas("plugboard_migrations")) {
        report.migrations = copy(
          "plugboard_migrations",
          ["version", "applied_at"],
          "WHERE plugin = ?",
          [name],
          "plugboard_migrations",
        );
      }
      const objects = legacy.prepare(
        `SELECT type, name, sql FROM sqlite_master
         WHERE sql IS NOT NULL AND substr(name, 1, ?) = ? ORDER BY type <> 'table', rowid`,
      ).all(prefix.length, prefix) as { type: string; name: string; sql: string }[];
      for (const o of objects) {
        const local = o.name.slice(prefix.length);
        if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(local)) continue;
        db.exec(o.sql.replaceAll(prefix, ""));
        if (o.type === "table") {
          const columns = (legacy.prepare(`PRAGMA table_info(${quote(o.name)})`).all() as { name: string }[])
            .map((c) => c.name);
          copy(o.name, columns, "", [], local);
          report.tables.push(local);
        }
      }
      db.prepare("INSERT INTO plugboard_meta (key, value) VALUES ('legacy_migrated', ?)").run(new Date().toISOString());
    });
  } finally {
    database.close();
  }
  return report;
}
