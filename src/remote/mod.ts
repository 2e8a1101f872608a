/**
 * URL plugins: the host fetches a plugin's whole module graph itself,
 * checks every hop against `allowImport`, pins every module in
 * plugboard.lock, and imports the plugin from a content-addressed snapshot on
 * disk. See docs/URL_PLUGINS.md.
 *
 * @module
 */

export { isAllowedHost } from "./allow.ts";
export { type ModuleChange, REMOTE_ERROR_CODES, RemoteError, type RemoteErrorCode } from "./errors.ts";
export {
  DEFAULT_MAX_MODULE_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_TIMEOUT_MS,
  type FetchedModule,
  fetchModule,
  type FetchModuleOptions,
} from "./fetch_module.ts";
export { integrityOf } from "./integrity.ts";
export { diffPins, formatChanges, LOCK_FILE, type LockEntry, PluginLock } from "./lock.ts";
export { DEFAULT_MAX_GRAPH_BYTES, DEFAULT_MAX_MODULES } from "./module_graph.ts";
export { type RemotePlugin, type ResolvedModule, type ResolveRemoteOptions, resolveRemotePlugin } from "./resolve.ts";
export { copySnapshot, removeSnapshotCopy, removeStaleRemoteSnapshots } from "./snapshot_copies.ts";
export { type RemoteImport, type RemoteLog, RemotePlugins, type RemotePluginsOptions } from "./remote_plugins.ts";
