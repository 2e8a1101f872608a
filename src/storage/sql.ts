/**
 * A plugin's own tables (`ctx.sql`), in its own database: queries, versioned
 * migrations and transactions. `{{name}}` in SQL is the table `name` (kept
 * from the time of one shared file, when it added a per-plugin prefix).
 *
 * @module
 */

import type { SQLInputValue } from "node:sqlite";
import type { PluginDatabase } from "./_database.ts";

/** One migration of a plugin's tables. */
export interface Migration {
  /** A positive integer; migrations apply in increasing order, once each. */
  version: number;
  /** SQL statements; `{{name}}` is the table `name`. */
  up: string;
}

/** What `ctx.sql.run()` reports. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** The rowid of the last inserted row. */
  lastInsertRowid: number;
}

/**
 * A plugin's own tables, in a database no other plugin can reach. Every
 * method is synchronous. `BEGIN`, `COMMIT`, `SAVEPOINT`, `ATTACH`, `PRAGMA`
 * writes, `load_extension()` and the tables named `plugboard_*` (storage's
 * own) are refused with `PERMISSION_DENIED`.
 *
 * @example Migrate, write in a transaction, query
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage } from "./open.ts";
 * using store = openPluginStorage({ name: "tracker", dir: ":memory:" });
 * const sql = store.sql;
 * sql.migrate([{ version: 1, up: "CREATE TABLE {{done}} (agent TEXT)" }]);
 * sql.transaction(() => {
 *   sql.run("INSERT INTO {{done}} VALUES (?)", "a1");
 *   sql.run("INSERT INTO {{done}} VALUES (?)", "a1");
 * });
 * assert.deepEqual(sql.all("SELECT agent, COUNT(*) AS n FROM done GROUP BY agent"), [{ agent: "a1", n: 2 }]);
 * assert.throws(() => sql.exec("BEGIN"), /Use ctx.sql.transaction/);
 * ```
 */
export interface PluginSql {
  /**
   * The table name `{{name}}` stands for.
   *
   * @param name an SQL identifier
   * @returns the table's name
   */
  table(name: string): string;
  /**
   * Applies the migrations not applied yet, in version order, each in its own
   * `BEGIN IMMEDIATE` transaction that re-reads the applied versions, so two
   * processes starting together apply each once.
   *
   * @param migrations the plugin's migrations, in any order
   * @returns how many were applied now
   * @throws {TypeError} for a version that is not a positive integer, or repeated
   */
  migrate(migrations: Migration[]): number;
  /**
   * Runs statements without results.
   *
   * @param sql one or more statements
   */
  exec(sql: string): void;
  /**
   * Rows of a query.
   *
   * @param sql a query with `?` parameters
   * @param params their values
   * @returns the rows, as plain objects
   */
  all<T = Record<string, unknown>>(sql: string, ...params: SQLInputValue[]): T[];
  /**
   * The first row of a query, or undefined.
   *
   * @param sql a query with `?` parameters
   * @param params their values
   * @returns the row
   */
  get<T = Record<string, unknown>>(sql: string, ...params: SQLInputValue[]): T | undefined;
  /**
   * Runs one statement.
   *
   * @param sql a statement with `?` parameters
   * @param params their values
   * @returns changes and last rowid
   */
  run(sql: string, ...params: SQLInputValue[]): RunResult;
  /**
   * Runs `fn` in a transaction (`BEGIN IMMEDIATE`, or a savepoint when
   * nested), covering `ctx.storage` writes too; rolls back if it throws.
   *
   * @param fn synchronous work
   * @returns what `fn` returns
   * @throws {TypeError} when `fn` returns a Promise (nothing is kept)
   */
  transaction<T>(fn: () => T): T;
}

const PLACEHOLDER = /\{\{([^}]*)\}\}/g;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Builds the SQL access over a plugin's database (what
 * `openPluginStorage` returns as `sql`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PluginDatabase } from "./_database.ts";
 * import { createSql } from "./sql.ts";
 * const database = new PluginDatabase("p", ":memory:", ":memory:", 100);
 * assert.equal(createSql(database).get<{ v: number }>("SELECT 1 AS v")?.v, 1);
 * database.close();
 * ```
 *
 * @param database the plugin's open database
 * @returns its SQL access
 */
export function createSql(database: PluginDatabase): PluginSql {
  const plugin = database.name;
  const table = (name: string) => {
    if (typeof name !== "string" || !IDENTIFIER.test(name)) {
      throw new TypeError(
        `Cannot name a table of plugin "${plugin}": "{{${name}}}" must hold an identifier such as {{completions}} ` +
          `(letters, digits, underscores)`,
      );
    }
    return name;
  };
  const expand = (sql: string) => {
    if (typeof sql !== "string") {
      throw new TypeError(`Cannot run SQL in plugin "${plugin}": expected a string, got ${typeof sql}`);
    }
    return sql.includes("{{") ? sql.replace(PLACEHOLDER, (_m, name) => table(name)) : sql;
  };
  const db = database.db;

  const sql: PluginSql = {
    table,
    exec: (text) => {
      const t = expand(text);
      database.guarded("run this SQL", () => db.exec(t));
    },
    all: <T>(text: string, ...params: SQLInputValue[]) => {
      const t = expand(text);
      return database.guarded("run this query", () => db.prepare(t).all(...params).map((row) => ({ ...row }) as T));
    },
    get: <T>(text: string, ...params: SQLInputValue[]) => {
      const t = expand(text);
      return database.guarded("run this query", () => {
        const row = db.prepare(t).get(...params);
        return row === undefined ? undefined : { ...row } as T;
      });
    },
    run: (text, ...params) => {
      const t = expand(text);
      return database.guarded("run this statement", () => {
        const r = db.prepare(t).run(...params);
        return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
      });
    },
    transaction: (fn) => {
      if (typeof fn !== "function") {
        throw new TypeError(`Cannot run a transaction in plugin "${plugin}": expected a function, got ${typeof fn}`);
      }
      return database.transaction("run ctx.sql.transaction()", fn);
    },
    migrate: (migrations) => {
      const sorted = checkMigrations(plugin, migrations);
      const applied = () =>
        new Set(
          (db.prepare("SELECT version FROM plugboard_migrations").all() as { version: number }[]).map((r) => r.version),
        );
      // A read first, so a start with nothing to apply never takes the write lock.
      const before = database.call("migrate", applied);
      let count = 0;
      for (const m of sorted) {
        if (before.has(m.version)) continue;
        database.transaction(`apply migration ${m.version}`, () => {
          if (applied().has(m.version)) return; // another process applied it meanwhile
          sql.exec(m.up);
          db.prepare("INSERT INTO plugboard_migrations (version, applied_at) VALUES (?, ?)")
            .run(m.version, new Date().toISOString());
          count++;
        });
      }
      return count;
    },
  };
  return sql;
}

function checkMigrations(plugin: string, migrations: unknown): Migration[] {
  if (!Array.isArray(migrations)) {
    throw new TypeError(
      `Cannot migrate plugin "${plugin}": expected an array of { version, up }, got ${typeof migrations}`,
    );
  }
  const seen = new Set<number>();
  for (const [i, m] of migrations.entries()) {
    const version = (m as Migration | undefined)?.version;
    if (!Number.isInteger(version) || (version as number) < 1) {
      throw new TypeError(
        `Cannot migrate plugin "${plugin}": migrations[${i}].version must be a positive integer: current value is ${
          JSON.stringify(version)
        }`,
      );
    }
    if (typeof (m as Migration).up !== "string") {
      throw new TypeError(`Cannot migrate plugin "${plugin}": migrations[${i}].up must be SQL text`);
    }
    if (seen.has(version as number)) {
      throw new TypeError(`Cannot migrate plugin "${plugin}": version ${version} appears twice`);
    }
    seen.add(version as number);
  }
  return [...migrations as Migration[]].sort((a, b) => a.version - b.version);
}
