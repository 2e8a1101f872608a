/**
 * The errors storage throws on purpose: {@linkcode StorageBusyError} when
 * another process holds a plugin's database for longer than the short busy
 * wait, and {@linkcode KeyExistsError} when `add` finds its key taken.
 *
 * @module
 */

import { PluginError, type PluginErrorCode } from "../errors.ts";

/**
 * The code of {@linkcode StorageBusyError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STORAGE_BUSY, StorageBusyError } from "./errors.ts";
 * assert.equal(new StorageBusyError("p", "set", 100).code, STORAGE_BUSY);
 * ```
 */
export const STORAGE_BUSY = "STORAGE_BUSY";

/**
 * A write (or, rarely, a read) that found the plugin's database locked by
 * another connection for longer than the busy timeout. Nothing was written.
 * Retry after `retryAfter` seconds; an HTTP answer is 503 with `Retry-After`.
 *
 * @example Recognise a busy database
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageBusyError } from "./errors.ts";
 * const err = new StorageBusyError("tasks", "set", 100);
 * assert.equal(err.code, "STORAGE_BUSY");
 * assert.equal(err.retryAfter, 1);
 * assert.match(err.message, /Cannot set in the storage of plugin "tasks": its database is locked/);
 * ```
 */
export class StorageBusyError extends PluginError {
  /** Seconds after which a retry is likely to succeed (for `Retry-After`). */
  readonly retryAfter: number;

  /**
   * Creates a `STORAGE_BUSY` error naming the plugin, the operation and how
   * long SQLite waited.
   *
   * @param plugin the plugin whose database is locked
   * @param operation what was attempted, such as `set` or `migrate`
   * @param waitedMs how long SQLite waited for the lock
   * @param options the SQLite error as `cause`, and the `retryAfter` hint in seconds (default 1)
   */
  constructor(
    plugin: string,
    operation: string,
    waitedMs: number,
    options: { cause?: unknown; retryAfter?: number } = {},
  ) {
    // "STORAGE_BUSY" is not yet in PluginErrorCode (src/errors.ts belongs to the host); the value is what callers see.
    super(
      STORAGE_BUSY as PluginErrorCode,
      `Cannot ${operation} in the storage of plugin "${plugin}": its database is locked by another connection ` +
        `(waited ${waitedMs} ms). Retry later, or find the process that holds the lock`,
      { plugin, cause: options.cause },
    );
    this.retryAfter = options.retryAfter ?? 1;
  }
}

/**
 * `storage.add(key, value)` found `key` already stored; nothing was written.
 *
 * @example Insert once
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage } from "./open.ts";
 * import { KeyExistsError } from "./errors.ts";
 * using store = openPluginStorage({ name: "tasks", dir: ":memory:" });
 * store.kv.add("task:1", { title: "a" });
 * assert.throws(() => store.kv.add("task:1", { title: "b" }), KeyExistsError);
 * assert.deepEqual(store.kv.get("task:1"), { title: "a" });
 * ```
 */
export class KeyExistsError extends PluginError {
  /** The key that was taken. */
  readonly key: string;

  /**
   * Creates a `CONFLICT` error naming the key and suggesting `set()` or a fresh key.
   *
   * @param plugin the plugin
   * @param key the key that is already stored
   */
  constructor(plugin: string, key: string) {
    super(
      "CONFLICT",
      `Cannot add "${key}" to the storage of plugin "${plugin}": the key is already stored. ` +
        `Use set() to overwrite it, or a fresh key such as crypto.randomUUID()`,
      { plugin },
    );
    this.key = key;
  }
}
