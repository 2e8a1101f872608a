/**
 * Per-plugin persistent storage on SQLite (Deno's built-in `node:sqlite`),
 * in one database file: a key-value store (`ctx.storage`) and the plugin's
 * own tables (`ctx.sql`). A plugin sees only its own keys and tables: every
 * statement it prepares runs under an SQLite authorizer that refuses any
 * table outside its prefix, and PRAGMA and ATTACH.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { PluginError } from "./errors.ts";

/** Options for the host's storage. */
export interface StorageOptions {
  /** The database file; `:memory:` for a throwaway one. @default "data/plugboard.db" */
  path?: string;
}

/** One migration of a plugin's tables. */
export interface Migration {
  /** Applied in increasing order, once each. */
  version: number;
  /** SQL; `{{name}}` stands for the plugin's table `name` (prefixed). */
  up: string;
}

/** A row of `storage.list()`. */
export interface StoredEntry<T = unknown> {
  key: string;
  value: T;
}

/**
 * A plugin's key-value store. Values are JSON. Every method is synchronous
 * and atomic; a failed write throws, nothing is lost silently.
 */
export interface PluginStorage {
  /** The value at `key`, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  /** Stores a JSON-serializable value. */
  set(key: string, value: unknown): void;
  /** Removes a key; returns whether it existed. */
  delete(key: string): boolean;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list<T = unknown>(prefix?: string): StoredEntry<T>[];
  /** Reads, transforms and writes one key in one transaction; returns the new value. */
  update<T = unknown>(key: string, fn: (current: T | undefined) => T): T;
}

/** What `ctx.sql.run()` reports. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/**
 * A plugin's own tables. In SQL, `{{name}}` stands for the plugin's table
 * `name`; `table(name)` gives the real name.
 */
export interface PluginSql {
  /** The real name of the plugin's table `name`. */
  table(name: string): string;
  /** Applies the migrations not applied yet, each in a transaction; returns how many ran. */
  migrate(migrations: Migration[]): number;
  /** Runs statements without results. */
  exec(sql: string): void;
  /** Rows of a query. */
  all<T = Record<string, unknown>>(sql: string, ...params: SQLInputValue[]): T[];
  /** The first row of a query, or undefined. */
  get<T = Record<string, unknown>>(sql: string, ...params: SQLInputValue[]): T | undefined;
  /** Runs a statement. */
  run(sql: string, ...params: SQLInputValue[]): RunResult;
  /** Runs `fn` in a transaction; rolls back if it throws. */
  transaction<T>(fn: () => T): T;
}

/** SQLite's authorizer action codes and results (sqlite3.h; stable across versions). */
const SQLITE = {
  OK: 0,
  DENY: 1,
  CREATE_INDEX: 1,
  CREATE_TABLE: 2,
  CREATE_TEMP_INDEX: 3,
  CREATE_TEMP_TABLE: 4,
  CREATE_TEMP_TRIGGER: 5,
  CREATE_TEMP_VIEW: 6,
  CREATE_TRIGGER: 7,
  CREATE_VIEW: 8,
  DELETE: 9,
  DROP_INDEX: 10,
  DROP_TABLE: 11,
  DROP_TEMP_INDEX: 12,
  DROP_TEMP_TABLE: 13,
  DROP_TEMP_TRIGGER: 14,
  DROP_TEMP_VIEW: 15,
  DROP_TRIGGER: 16,
  DROP_VIEW: 17,
  INSERT: 18,
  READ: 20,
  SELECT: 21,
  TRANSACTION: 22,
  UPDATE: 23,
  ALTER_TABLE: 26,
  REINDEX: 27,
  ANALYZE: 28,
  FUNCTION: 31,
  SAVEPOINT: 32,
  RECURSIVE: 33,
} as const;

/** `DatabaseSync#setAuthorizer`, present at run time but missing from the bundled types. */
interface Authorizable {
  setAuthorizer(fn: ((action: number, a1: string | null, a2: string | null) => number) | null): void;
}

/** Which authorizer arguments name a table (or an index, trigger or view) for each action. */
const TABLE_ARG: Record<number, number[]> = {
  [SQLITE.CREATE_INDEX]: [0, 1],
  [SQLITE.CREATE_TABLE]: [0],
  [SQLITE.CREATE_TEMP_INDEX]: [0, 1],
  [SQLITE.CREATE_TEMP_TABLE]: [0],
  [SQLITE.CREATE_TRIGGER]: [0, 1],
  [SQLITE.CREATE_TEMP_TRIGGER]: [0, 1],
  [SQLITE.CREATE_VIEW]: [0],
  [SQLITE.CREATE_TEMP_VIEW]: [0],
  [SQLITE.DELETE]: [0],
  [SQLITE.DROP_INDEX]: [0, 1],
  [SQLITE.DROP_TEMP_INDEX]: [0, 1],
  [SQLITE.DROP_TABLE]: [0],
  [SQLITE.DROP_TEMP_TABLE]: [0],
  [SQLITE.DROP_TRIGGER]: [0, 1],
  [SQLITE.DROP_TEMP_TRIGGER]: [0, 1],
  [SQLITE.DROP_VIEW]: [0],
  [SQLITE.DROP_TEMP_VIEW]: [0],
  [SQLITE.INSERT]: [0],
  [SQLITE.READ]: [0],
  [SQLITE.UPDATE]: [0],
  [SQLITE.ALTER_TABLE]: [1],
  [SQLITE.REINDEX]: [0],
  [SQLITE.ANALYZE]: [0],
};
const SCHEMA_TABLES = new Set(["sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"]);
const ALWAYS_OK = new Set<number>([
  SQLITE.SELECT,
  SQLITE.TRANSACTION,
  SQLITE.FUNCTION,
  SQLITE.SAVEPOINT,
  SQLITE.RECURSIVE,
]);

/**
 * The table prefix of a plugin: `task-tracker` → `task_tracker__`. Plugin names
 * never hold two hyphens in a row, so no prefix is the start of another.
 *
 * @param plugin the plugin name
 * @returns the prefix
 */
export function tablePrefix(plugin: string): string {
  return `${plugin.replaceAll("-", "_")}__`;
}

/**
 * The host's database: opened on first use, shared by every plugin, each
 * confined to its own namespace.
 *
 * @example
 * ```ts
 * import { Storage } from "./storage.ts";
 * const storage = new Storage({ path: ":memory:" });
 * const kv = storage.kv("counter");
 * kv.update<number>("hits", (n) => (n ?? 0) + 1);
 * if (kv.get("hits") !== 1) throw new Error();
 * storage.close();
 * ```
 */
export class Storage {
  #path: string;
  #db: DatabaseSync | undefined;

  /** @param options the database file */
  constructor(options: StorageOptions = {}) {
    this.#path = options.path ?? "data/plugboard.db";
  }

  /** The database file. */
  get path(): string {
    return this.#path;
  }

  #open(): DatabaseSync {
    if (this.#db) return this.#db;
    if (this.#path !== ":memory:") mkdirSync(dirname(this.#path), { recursive: true });
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(this.#path);
    } catch (cause) {
      throw new PluginError(
        "PERMISSION_DENIED",
        `Cannot open the plugin database ${this.#path}: ${(cause as Error).message}. ` +
          `Check --allow-read and --allow-write for its folder, or set the host's storage.path`,
        { cause },
      );
    }
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS plugboard_kv (
        plugin TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS plugboard_migrations (
        plugin TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (plugin, version)
      ) WITHOUT ROWID;
    `);
    this.#db = db;
    return db;
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws).
   * Immediate transactions take the write lock at once, so another process
   * writing the same file waits (busy_timeout) instead of failing mid-way.
   */
  #transaction<T>(fn: (db: DatabaseSync) => T): T {
    const db = this.#open();
    if (db.isTransaction) return fn(db);
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn(db);
      db.exec("COMMIT");
      return result;
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }

  /**
   * A plugin's key-value store.
   *
   * @param plugin the plugin name
   * @returns its store
   */
  kv(plugin: string): PluginStorage {
    const encode = (key: string, value: unknown) => {
      if (typeof key !== "string" || key.length === 0) {
        throw new TypeError(
          `Cannot store for plugin "${plugin}": key must be a non-empty string, got ${JSON.stringify(key)}`,
        );
      }
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (cause) {
        throw new TypeError(
          `Cannot store "${key}" for plugin "${plugin}": the value is not JSON-serializable (${
            (cause as Error).message
          })`,
          { cause },
        );
      }
      if (text === undefined) {
        throw new TypeError(
          `Cannot store "${key}" for plugin "${plugin}": ${typeof value} is not JSON; use delete() to remove a key`,
        );
      }
      return text;
    };
    const read = (db: DatabaseSync, key: string) => {
      const row = db.prepare("SELECT value FROM plugboard_kv WHERE plugin = ? AND key = ?").get(plugin, key) as
        | { value: string }
        | undefined;
      return row === undefined ? undefined : JSON.parse(row.value);
    };
    const write = (db: DatabaseSync, key: string, text: string) =>
      db.prepare(
        `INSERT INTO plugboard_kv (plugin, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(plugin, key, text, new Date().toISOString());
    return {
      get: (key) => read(this.#open(), key),
      set: (key, value) => {
        const text = encode(key, value);
        this.#transaction((db) => write(db, key, text));
      },
      delete: (key) =>
        this.#transaction((db) =>
          Number(db.prepare("DELETE FROM plugboard_kv WHERE plugin = ? AND key = ?").run(plugin, key).changes) > 0
        ),
      list: (prefix = "") => {
        const rows = this.#open().prepare(
          "SELECT key, value FROM plugboard_kv WHERE plugin = ? AND substr(key, 1, ?) = ? ORDER BY key",
        ).all(plugin, prefix.length, prefix) as { key: string; value: string }[];
        return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) }));
      },
      update: (key, fn) =>
        this.#transaction((db) => {
          const next = fn(read(db, key));
          write(db, key, encode(key, next));
          return next;
        }),
    };
  }

  /**
   * A plugin's own tables.
   *
   * @param plugin the plugin name
   * @returns its SQL access, confined to its prefix
   */
  sql(plugin: string): PluginSql {
    const prefix = tablePrefix(plugin);
    const expand = (sql: string) => sql.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_m, name) => prefix + name);
    const authorize = (action: number, a1: string | null, a2: string | null) => {
      if (ALWAYS_OK.has(action)) return SQLITE.OK;
      const positions = TABLE_ARG[action];
      if (!positions) return SQLITE.DENY;
      // DDL reads and writes the schema catalog itself; rows of other tables stay out of reach.
      if (a1 !== null && SCHEMA_TABLES.has(a1)) return SQLITE.OK;
      const args = [a1, a2];
      const own = (name: string | null) =>
        name !== null && (name.startsWith(prefix) || name.startsWith(`sqlite_autoindex_${prefix}`));
      return positions.every((i) => own(args[i])) ? SQLITE.OK : SQLITE.DENY;
    };
    const guarded = <T>(sql: string, fn: (db: DatabaseSync, text: string) => T): T => {
      const db = this.#open();
      const text = expand(sql);
      const withAuthorizer = db as unknown as Authorizable;
      withAuthorizer.setAuthorizer(authorize);
      try {
        return fn(db, text);
      } catch (cause) {
        const reason = (cause as Error).message;
        if (/prohibited|not authorized/i.test(reason)) {
          throw new PluginError(
            "PERMISSION_DENIED",
            `Plugin "${plugin}" may only use its own tables (named ${prefix}*, written {{name}} in SQL): ${reason}`,
            { plugin, cause },
          );
        }
        throw cause;
      } finally {
        withAuthorizer.setAuthorizer(null);
      }
    };
    const sql: PluginSql = {
      table: (name) => prefix + name,
      exec: (text) => guarded(text, (db, t) => db.exec(t)),
      all: <T>(text: string, ...params: SQLInputValue[]) =>
        guarded(text, (db, t) => db.prepare(t).all(...params).map((row) => ({ ...row }) as T)),
      get: <T>(text: string, ...params: SQLInputValue[]) =>
        guarded(text, (db, t) => {
          const row = db.prepare(t).get(...params);
          return row === undefined ? undefined : { ...row } as T;
        }),
      run: (text, ...params) =>
        guarded(text, (db, t) => {
          const r = db.prepare(t).run(...params);
          return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
        }),
      transaction: (fn) => this.#transaction(() => fn()),
      migrate: (migrations) => {
        const db = this.#open();
        const done = new Set(
          (db.prepare("SELECT version FROM plugboard_migrations WHERE plugin = ?").all(plugin) as { version: number }[])
            .map((r) => r.version),
        );
        let applied = 0;
        for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
          if (done.has(m.version)) continue;
          if (!Number.isInteger(m.version) || m.version < 1) {
            throw new TypeError(
              `Cannot migrate plugin "${plugin}": version must be a positive integer, got ${m.version}`,
            );
          }
          this.#transaction((tx) => {
            sql.exec(m.up);
            tx.prepare("INSERT INTO plugboard_migrations (plugin, version, applied_at) VALUES (?, ?, ?)")
              .run(plugin, m.version, new Date().toISOString());
          });
          applied++;
        }
        return applied;
      },
    };
    return sql;
  }

  /**
   * Removes everything a plugin stored: its keys, its tables, its migrations.
   *
   * @param plugin the plugin name
   * @returns how many keys and tables were removed
   */
  purge(plugin: string): { keys: number; tables: number } {
    const prefix = tablePrefix(plugin);
    return this.#transaction((db) => {
      const keys = Number(db.prepare("DELETE FROM plugboard_kv WHERE plugin = ?").run(plugin).changes);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?")
        .all(prefix.length, prefix) as { name: string }[]).map((r) => r.name);
      for (const t of tables) db.exec(`DROP TABLE "${t.replaceAll('"', '""')}"`);
      db.prepare("DELETE FROM plugboard_migrations WHERE plugin = ?").run(plugin);
      return { keys, tables: tables.length };
    });
  }

  /** Closes the database (it reopens on next use). */
  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }
}
