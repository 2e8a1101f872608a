/**
 * Per-plugin persistent storage on SQLite (Deno's built-in `node:sqlite`):
 * a key-value store (`ctx.storage`) and the plugin's own tables
 * (`ctx.sql`), in one database file and connection per plugin,
 * `<dataDir>/plugins/<name>/storage.db`. No statement, trigger or
 * transaction of one plugin can reach another's data.
 *
 * - `storage/open.ts`: {@linkcode openPluginStorage}, one plugin's store from its name and folder
 * - `storage/kv.ts`, `storage/sql.ts`: the two APIs
 * - `storage/storage.ts`: {@linkcode Storage}, every plugin's store as the host holds it, and purge
 * - `storage/migrate_legacy.ts`: moving the old shared `plugboard.db` into per-plugin files
 * - `storage/errors.ts`, `storage/retry.ts`: busy and conflict errors, and retrying when busy
 *
 * @example A plugin's storage, opened alone
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage } from "./storage.ts";
 * using store = openPluginStorage({ name: "hello", dir: ":memory:" });
 * store.kv.set("greeting", "hi");
 * assert.equal(store.kv.get("greeting"), "hi");
 * ```
 *
 * @module
 */

export { KeyExistsError, STORAGE_BUSY, StorageBusyError } from "./storage/errors.ts";
export type { PluginStorage, StoredEntry } from "./storage/kv.ts";
export type { Migration, PluginSql, RunResult } from "./storage/sql.ts";
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  openPluginStorage,
  type OpenPluginStorageOptions,
  type PluginStore,
  STORAGE_FILE,
} from "./storage/open.ts";
export { pluginDataDir } from "./storage/paths.ts";
export { Storage, type StorageOptions } from "./storage/storage.ts";
export {
  type LegacyMigrationReport,
  type LegacyPluginReport,
  type MigrateLegacyOptions,
  migrateLegacyStorage,
} from "./storage/migrate_legacy.ts";
export { retryBusy, type RetryBusyOptions } from "./storage/retry.ts";
