/**
 * Private: one plugin's SQLite connection. It owns the connection's settings
 * (WAL, `synchronous = FULL`, a short `busy_timeout`), the internal tables,
 * the authorizer that confines the plugin's own SQL, transactions, and the
 * mapping of SQLite failures to plugboard errors.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { PluginError } from "../errors.ts";
import { StorageBusyError } from "./errors.ts";

/** SQLite's authorizer action codes (sqlite3.h; stable across versions). */
const A = {
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
  PRAGMA: 19,
  READ: 20,
  TRANSACTION: 22,
  UPDATE: 23,
  ATTACH: 24,
  DETACH: 25,
  ALTER_TABLE: 26,
  REINDEX: 27,
  ANALYZE: 28,
  FUNCTION: 31,
  SAVEPOINT: 32,
} as const;
const SQLITE_OK = 0;
const SQLITE_DENY = 1;

/** Which authorizer arguments name a table (or index, trigger, view) for each action. */
const TABLE_ARGS: Record<number, readonly (0 | 1)[]> = {
  [A.CREATE_INDEX]: [0, 1],
  [A.CREATE_TABLE]: [0],
  [A.CREATE_TEMP_INDEX]: [0, 1],
  [A.CREATE_TEMP_TABLE]: [0],
  [A.CREATE_TEMP_TRIGGER]: [0, 1],
  [A.CREATE_TEMP_VIEW]: [0],
  [A.CREATE_TRIGGER]: [0, 1],
  [A.CREATE_VIEW]: [0],
  [A.DELETE]: [0],
  [A.DROP_INDEX]: [0, 1],
  [A.DROP_TABLE]: [0],
  [A.DROP_TEMP_INDEX]: [0, 1],
  [A.DROP_TEMP_TABLE]: [0],
  [A.DROP_TEMP_TRIGGER]: [0, 1],
  [A.DROP_TEMP_VIEW]: [0],
  [A.DROP_TRIGGER]: [0, 1],
  [A.DROP_VIEW]: [0],
  [A.INSERT]: [0],
  [A.READ]: [0],
  [A.UPDATE]: [0],
  [A.ALTER_TABLE]: [1],
  [A.REINDEX]: [0],
  [A.ANALYZE]: [0],
};

/** Pragmas that only describe the schema; allowed with any argument (a table or index name). */
const SCHEMA_PRAGMAS = new Set([
  "table_info",
  "table_xinfo",
  "table_list",
  "index_list",
  "index_info",
  "index_xinfo",
  "foreign_key_list",
  "foreign_key_check",
  "integrity_check",
  "quick_check",
]);
/** Pragmas allowed only as reads (no `= value`). */
const VALUE_PRAGMAS = new Set(["user_version", "data_version", "page_count", "page_size", "freelist_count"]);

/** The prefix of the tables storage keeps for itself in every plugin database. */
export const INTERNAL_PREFIX = "plugboard_";

/** `DatabaseSync#setAuthorizer`, present at run time but missing from the bundled types. */
interface Authorizable {
  setAuthorizer(fn: ((action: number, a1: string | null, a2: string | null) => number) | null): void;
}

/**
 * Tells whether an error from `node:sqlite` means the database was locked
 * (SQLITE_BUSY or SQLITE_LOCKED); `node:sqlite` gives only the message.
 */
export function isLockError(error: unknown): boolean {
  return error instanceof Error && /database (table )?is locked|database schema is locked/.test(error.message);
}

/** One plugin's open database. */
export class PluginDatabase {
  /** The plugin. */
  readonly name: string;
  /** The database file, or `:memory:`. */
  readonly file: string;
  /** The connection. */
  readonly db: DatabaseSync;
  /** How long SQLite waits for a lock before failing, in ms. */
  readonly busyTimeoutMs: number;
  #guarded = false;
  #denied: string | undefined;
  #savepoints = 0;

  /**
   * Opens (creating if needed) a plugin's database.
   *
   * @param name the plugin
   * @param dir its data folder, or `:memory:`
   * @param file the database file inside it, or `:memory:`
   * @param busyTimeoutMs the busy wait
   * @throws {PluginError} `PERMISSION_DENIED` when the folder or file cannot be opened
   * @throws {StorageBusyError} when another process holds the lock while the schema is created
   */
  constructor(name: string, dir: string, file: string, busyTimeoutMs: number) {
    this.name = name;
    this.file = file;
    this.busyTimeoutMs = busyTimeoutMs;
    try {
      if (file !== ":memory:") Deno.mkdirSync(dir, { recursive: true });
      this.db = new DatabaseSync(file);
    } catch (cause) {
      throw new PluginError(
        "PERMISSION_DENIED",
        `Cannot open the database of plugin "${name}" at ${file}: ${(cause as Error).message}. ` +
          `Check --allow-read and --allow-write for ${dir}, or set the host's storage.dir`,
        { plugin: name, cause },
      );
    }
    try {
      this.call("open its database", () => {
        this.db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;`);
        const ready = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = '${INTERNAL_PREFIX}meta'`).get();
        if (!ready) {
          this.transaction("create its tables", () =>
            this.db.exec(`
              CREATE TABLE IF NOT EXISTS plugboard_kv (
                key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID;
              CREATE TABLE IF NOT EXISTS plugboard_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
              CREATE TABLE IF NOT EXISTS plugboard_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            `));
        }
      });
    } catch (error) {
      this.db.close();
      throw error;
    }
    (this.db as unknown as Authorizable).setAuthorizer(this.#authorize);
  }

  /** Confines the plugin's own SQL; storage's own statements run unguarded. */
  #authorize = (action: number, a1: string | null, a2: string | null): number => {
    if (!this.#guarded) return SQLITE_OK;
    const refuse = (reason: string) => {
      this.#denied = reason;
      return SQLITE_DENY;
    };
    switch (action) {
      case A.TRANSACTION:
      case A.SAVEPOINT:
        return refuse(
          `${a1 ?? "transaction control"}${action === A.SAVEPOINT ? " SAVEPOINT" : ""} is refused in plugin SQL, ` +
            `as it would break the storage API's own transactions. Use ctx.sql.transaction(() => { ... })`,
        );
      case A.ATTACH:
      case A.DETACH:
        return refuse("ATTACH and DETACH are refused: a plugin uses only its own database");
      case A.PRAGMA: {
        const pragma = (a1 ?? "").toLowerCase();
        if (SCHEMA_PRAGMAS.has(pragma) || (VALUE_PRAGMAS.has(pragma) && a2 === null)) return SQLITE_OK;
        return refuse(
          `PRAGMA ${a1}${a2 === null ? "" : ` = ${a2}`} is refused: only schema reads such as PRAGMA table_info(t) ` +
            `are allowed; storage sets the connection's pragmas`,
        );
      }
      case A.FUNCTION:
        return a2 === "load_extension" ? refuse("load_extension() is refused") : SQLITE_OK;
    }
    const positions = TABLE_ARGS[action];
    if (positions) {
      for (const i of positions) {
        const table = i === 0 ? a1 : a2;
        if (table !== null && table.toLowerCase().startsWith(INTERNAL_PREFIX)) {
          return refuse(
            `table "${table}" is storage's own (names starting with "${INTERNAL_PREFIX}" are reserved); ` +
              `use ctx.storage for keys and values, and name your tables otherwise`,
          );
        }
      }
    }
    return SQLITE_OK;
  };

  /**
   * Runs storage's own statements, turning a lock into {@linkcode StorageBusyError}.
   *
   * @param operation what is attempted, for the message
   * @param fn the work
   * @returns what `fn` returns
   */
  call<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (isLockError(error)) {
        throw new StorageBusyError(this.name, operation, this.busyTimeoutMs, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Runs the plugin's own SQL under the authorizer.
   *
   * @param operation what is attempted, for the message
   * @param fn the work
   * @returns what `fn` returns
   * @throws {PluginError} `PERMISSION_DENIED` naming what was refused and what to do instead
   */
  guarded<T>(operation: string, fn: () => T): T {
    const outer = this.#guarded;
    this.#guarded = true;
    this.#denied = undefined;
    try {
      return this.call(operation, fn);
    } catch (error) {
      const denied = this.#denied;
      if (denied !== undefined && error instanceof Error && /not authorized|prohibited/i.test(error.message)) {
        throw new PluginError("PERMISSION_DENIED", `Cannot ${operation} in plugin "${this.name}": ${denied}`, {
          plugin: this.name,
          cause: error,
        });
      }
      throw error;
    } finally {
      this.#guarded = outer;
      this.#denied = undefined;
    }
  }

  /**
   * Runs `fn` in a transaction: `BEGIN IMMEDIATE` (the write lock at once,
   * so reads and writes inside see one state), or a savepoint when one is
   * already open. Rolled back if `fn` throws.
   *
   * @param operation what is attempted, for the messages
   * @param fn synchronous work
   * @returns what `fn` returns
   * @throws {TypeError} when `fn` returns a Promise (the work is rolled back)
   * @throws {StorageBusyError} when another connection holds the write lock
   */
  transaction<T>(operation: string, fn: () => T): T {
    const db = this.db;
    const outer = this.#guarded;
    this.#guarded = false;
    const savepoint = db.isTransaction ? `plugboard_sp_${++this.#savepoints}` : undefined;
    try {
      this.call(operation, () => db.exec(savepoint ? `SAVEPOINT ${savepoint}` : "BEGIN IMMEDIATE"));
    } finally {
      this.#guarded = outer;
    }
    let result: T;
    try {
      result = fn();
      if (typeof (result as { then?: unknown } | undefined)?.then === "function") {
        throw new TypeError(
          `Cannot ${operation} in plugin "${this.name}": the function returned a Promise, but a transaction ` +
            `must be synchronous. Do the awaiting before the transaction, then write inside it`,
        );
      }
    } catch (error) {
      this.#end(savepoint, false);
      throw error;
    }
    this.#end(savepoint, true);
    return result;
  }

  #end(savepoint: string | undefined, commit: boolean): void {
    const outer = this.#guarded;
    this.#guarded = false;
    try {
      if (savepoint) {
        this.#savepoints--;
        this.db.exec(commit ? `RELEASE ${savepoint}` : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      } else if (commit) {
        try {
          this.db.exec("COMMIT");
        } catch (error) {
          if (this.db.isTransaction) this.db.exec("ROLLBACK");
          throw error;
        }
      } else if (this.db.isTransaction) {
        this.db.exec("ROLLBACK");
      }
    } finally {
      this.#guarded = outer;
    }
  }

  /** Closes the connection; later calls fail. */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
