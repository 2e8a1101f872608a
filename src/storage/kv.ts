/**
 * A plugin's key-value store (`ctx.storage`): JSON values under string keys,
 * in the table `plugboard_kv` of the plugin's own database.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { PluginDatabase } from "./_database.ts";
import { KeyExistsError } from "./errors.ts";

/** A row of `storage.list()`. */
export interface StoredEntry<T = unknown> {
  /** The key. */
  key: string;
  /** The stored value, parsed from JSON. */
  value: T;
}

/**
 * A plugin's key-value store. Values are JSON. Every method is synchronous
 * and atomic; a failed write throws and writes nothing. A write that finds
 * the database locked by another process for longer than the busy timeout
 * throws `StorageBusyError` (see `retryBusy`).
 *
 * @example Insert, read, list
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage } from "./open.ts";
 * using store = openPluginStorage({ name: "notes", dir: ":memory:" });
 * const kv = store.kv;
 * kv.add("note:1", { text: "hi" });
 * kv.set("note:2", { text: "there" });
 * assert.deepEqual(kv.list("note:").map((e) => e.key), ["note:1", "note:2"]);
 * assert.equal(kv.delete("note:1"), true);
 * ```
 */
export interface PluginStorage {
  /**
   * The value at `key`, or undefined.
   *
   * @param key a non-empty string
   * @returns the value, parsed from JSON
   */
  get<T = unknown>(key: string): T | undefined;
  /**
   * Stores a JSON-serializable value, replacing any value at `key`.
   *
   * @param key a non-empty string
   * @param value anything `JSON.stringify` accepts, except `undefined`
   * @throws {TypeError} for an empty key or a value that is not JSON
   */
  set(key: string, value: unknown): void;
  /**
   * Stores a value only if `key` is not stored yet: an insert that never
   * overwrites, safe when several processes write.
   *
   * @param key a non-empty string
   * @param value anything `JSON.stringify` accepts, except `undefined`
   * @throws {KeyExistsError} `CONFLICT` when the key is already stored (nothing is written)
   */
  add(key: string, value: unknown): void;
  /**
   * Removes a key.
   *
   * @param key the key
   * @returns whether it existed
   */
  delete(key: string): boolean;
  /**
   * Entries whose key starts with `prefix`, sorted by key (by UTF-8 bytes).
   *
   * @param prefix the start of the keys @default ""
   * @returns the entries
   */
  list<T = unknown>(prefix?: string): StoredEntry<T>[];
  /**
   * Reads, transforms and writes one key in one transaction.
   *
   * @param key a non-empty string
   * @param fn gets the current value (or undefined), returns the new one; must be synchronous
   * @returns the new value
   */
  update<T = unknown>(key: string, fn: (current: T | undefined) => T): T;
}

/**
 * Builds the key-value store over a plugin's database (what
 * `openPluginStorage` returns as `kv`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PluginDatabase } from "./_database.ts";
 * import { createKv } from "./kv.ts";
 * const database = new PluginDatabase("p", ":memory:", ":memory:", 100);
 * const kv = createKv(database);
 * assert.equal(kv.update<number>("n", (n) => (n ?? 0) + 1), 1);
 * database.close();
 * ```
 *
 * @param database the plugin's open database
 * @returns its store
 */
export function createKv(database: PluginDatabase): PluginStorage {
  const plugin = database.name;
  const statements = new Map<string, StatementSync>();
  const stmt = (sql: string) => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, s = database.db.prepare(sql));
    return s;
  };
  const checkKey = (key: unknown, op: string) => {
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(
        `Cannot ${op} in the storage of plugin "${plugin}": key must be a non-empty string, got ${
          typeof key === "string" ? '""' : typeof key
        }`,
      );
    }
  };
  const encode = (key: string, value: unknown, op: string) => {
    checkKey(key, op);
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
  const read = (key: string) => {
    const row = stmt("SELECT value FROM plugboard_kv WHERE key = ?").get(key) as { value: string } | undefined;
    return row === undefined ? undefined : JSON.parse(row.value);
  };
  const write = (key: string, text: string) =>
    stmt(
      `INSERT INTO plugboard_kv (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(key, text, new Date().toISOString());

  return {
    get: (key) => {
      checkKey(key, "get");
      return database.call("get", () => read(key));
    },
    set: (key, value) => {
      const text = encode(key, value, "set");
      database.call("set", () => write(key, text));
    },
    add: (key, value) => {
      const text = encode(key, value, "add");
      const inserted = database.call(
        "add",
        () =>
          stmt("INSERT INTO plugboard_kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
            .run(key, text, new Date().toISOString()).changes,
      );
      if (Number(inserted) === 0) throw new KeyExistsError(plugin, key);
    },
    delete: (key) => {
      checkKey(key, "delete");
      return database.call("delete", () => Number(stmt("DELETE FROM plugboard_kv WHERE key = ?").run(key).changes) > 0);
    },
    list: (prefix = "") => {
      if (typeof prefix !== "string") {
        throw new TypeError(
          `Cannot list the storage of plugin "${plugin}": prefix must be a string, got ${typeof prefix}`,
        );
      }
      // length() and substr() count characters the same way, whatever the script (JS string lengths do not).
      const rows = database.call("list", () =>
        stmt(
          "SELECT key, value FROM plugboard_kv WHERE key >= ?1 AND substr(key, 1, length(?1)) = ?1 ORDER BY key",
        ).all(prefix) as { key: string; value: string }[]);
      return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) }));
    },
    update: (key, fn) => {
      checkKey(key, "update");
      return database.transaction(`update "${key}"`, () => {
        const next = fn(read(key));
        if (typeof (next as { then?: unknown } | undefined)?.then === "function") {
          throw new TypeError(
            `Cannot update "${key}" in the storage of plugin "${plugin}": the function returned a Promise, ` +
              `but update() needs a synchronous function. Await first, then update`,
          );
        }
        write(key, encode(key, next, "update"));
        return next;
      });
    },
  };
}
