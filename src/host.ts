/**
 * The plugin host: the public facade over the lifecycle. It owns the shared
 * tables (event bus, services, routes, hooks, storage), serialises every
 * lifecycle operation, and delegates each to the module that owns it:
 * `lifecycle/batch.ts` (load), `lifecycle/reload.ts`, `lifecycle/activation.ts`
 * (set-up, swap, unload), `lifecycle/registry.ts` (records and state).
 *
 * @module
 */

import { join } from "node:path";
import { assertReadableFolder, discoverPlugins } from "./discovery.ts";
import { PluginError } from "./errors.ts";
import type { PlugboardEvents } from "./event_types.ts";
import type { EventBus } from "./events.ts";
import { HookRegistry } from "./hooks.ts";
import { createHttpApp } from "./http/app.ts";
import { generateAdminToken } from "./http/admin_token.ts";
import { unload, type UnloadResult, unloadWithDependents } from "./lifecycle/activation.ts";
import type { Lifecycle } from "./lifecycle/lifecycle.ts";
import { type BatchSource, loadBatch, warnUnknownNames } from "./lifecycle/batch.ts";
import { onFolderChange } from "./lifecycle/folder_changes.ts";
import { approve, reload } from "./lifecycle/reload.ts";
import { createLifecycle } from "./lifecycle/create.ts";
import { update, type UpdateResult } from "./lifecycle/remote.ts";
import { claimantOf } from "./lifecycle/claims.ts";
import { PluginRegistry } from "./lifecycle/registry.ts";
import { catchStrayFailures, claimStrayFailure } from "./lifecycle/stray_failures.ts";
import { Logger } from "./logger.ts";
import { McpHub } from "./mcp/hub.ts";
import { Observability } from "./metrics/observability.ts";
import { hintFor } from "./plugin_name.ts";
import { type HostOptions, type ResolvedHostOptions, resolveHostOptions } from "./options.ts";
import type { PluginDefinition } from "./plugin.ts";
import type { PluginInfo } from "./plugin_info.ts";
import { createErrorReporter, type ErrorReporter } from "./reporter.ts";
import { RouteTable } from "./routes.ts";
import { InProcessRuntime } from "./runtime/in_process.ts";
import { Container } from "./services.ts";
import { canSnapshot, removeStaleSnapshots } from "./snapshots.ts";
import { Storage } from "./storage.ts";
import { type FolderWatch, type WatchOptions, watchPluginFolders } from "./watcher.ts";

export type { HostOptions } from "./options.ts";

/** Options for {@linkcode Host.unload}. */
export interface UnloadOptions {
  /** Unload the plugins that depend on it first instead of refusing. @default false */
  cascade?: boolean;
}

export type { UnloadResult } from "./lifecycle/activation.ts";
export type { UpdateResult } from "./lifecycle/remote.ts";

/**
 * Creates a plugin host.
 *
 * @param options see {@linkcode HostOptions}
 * @returns the host, not started
 * @throws {SettingsError} for an unusable `apiKey`
 * @throws {TypeError} when `storage` has both `dir` and `path`
 *
 * @example Start and stop an empty host
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHost } from "../mod.ts";
 * const host = createHost({ pluginsDir: null, logger: { level: "silent" } });
 * await host.start();
 * assert.deepEqual(host.list(), []);
 * await host.stop();
 * ```
 */
export function createHost(options: HostOptions = {}): Host {
  return new Host(options);
}

/** A plugin host. Build it with {@linkcode createHost}. */
export class Host {
  /** The typed event bus shared by the host and every plugin. */
  readonly events: EventBus<PlugboardEvents>;
  /** The service container shared by the host and every plugin. */
  readonly services: Container = new Container({
    claimedBy: (n) => claimantOf(this.#registry.records(), "services", n),
  });
  /** The host's logger. */
  readonly log: Logger;
  /** Mounted plugin routers and host-wide middleware. */
  readonly routes: RouteTable = new RouteTable();
  /** Extension points that plugins define and wrap. */
  readonly hooks: HookRegistry = new HookRegistry({
    claimedBy: (n) => claimantOf(this.#registry.records(), "hooks", n),
  });
  /** The plugins' database: `ctx.storage` and `ctx.sql`. */
  readonly storage: Storage;
  /**
   * The whole HTTP server as a fetch handler: health, admin API and plugin
   * routes. Pass Deno.serve's `info` as the second argument so the admin API
   * can tell loopback clients.
   */
  readonly fetch: (request: Request, info?: Deno.ServeHandlerInfo) => Response | Promise<Response>;
  /**
   * The key every admin request must carry (`X-API-Key` or `Authorization: Bearer`): the `apiKey` option, or, without
   * one, a random token made with the host, which the admin API asks only of loopback clients (docs/SECURITY.md).
   */
  readonly adminKey: string;
  /** Metrics, event streams, access log, per-plugin debug and last errors: what `/metrics` and `/admin` show. */
  readonly observability: Observability;
  /** MCP: every plugin's tools, resources and prompts, and the sessions of `/mcp` (docs/HTTP.md#mcp). */
  readonly mcp: McpHub;

  #options: ResolvedHostOptions;
  #registry: PluginRegistry;
  #runtime = new InProcessRuntime();
  #lifecycle: Lifecycle;
  #report: ErrorReporter;
  #queue: Promise<unknown> = Promise.resolve();
  #watch: FolderWatch | undefined;
  #stopCatching: (() => void) | undefined;

  /**
   * Builds a host that is not started; prefer {@linkcode createHost}, which does the same.
   *
   * @param options see {@linkcode HostOptions}
   * @throws {SettingsError} for an unusable `apiKey`
   * @throws {TypeError} when `storage` has both `dir` and `path`
   */
  constructor(options: HostOptions = {}) {
    const o = this.#options = resolveHostOptions(options);
    this.log = new Logger("plugboard", o.logger);
    const obs = this.observability = new Observability(this, o, (name) => this.#registry.get(name)?.live?.version);
    this.events = obs.bus<PlugboardEvents>({
      // One reporter for every system.error: a failing handler is reported like any other contained failure.
      onHandlerError: ({ event, owner, error }) => this.#report({ origin: "event", plugin: owner, event, error }),
      onUnhandled: (error, event, owner) =>
        this.log.error(`Handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed`, error),
    });
    this.storage = new Storage({ ...o.storage, log: o.storage.log ?? ((m) => this.log.info(m)) });
    this.#registry = new PluginRegistry({
      events: this.events,
      services: this.services,
      routes: this.routes,
      log: this.log,
    });
    this.#report = createErrorReporter(this.log, this.events, (f) => {
      const record = f.plugin ? this.#registry.get(f.plugin) : undefined;
      if (record) record.failures++;
      obs.failure(f);
    });
    this.#lifecycle = createLifecycle({
      options: o,
      log: this.log,
      registry: this.#registry,
      inProcess: this.#runtime,
      events: this.events,
      services: this.services,
      routes: this.routes,
      hooks: this.hooks,
      storage: this.storage,
      report: this.#report,
      // A plugin's own ctx.reload(): not the operator's, so its crash window is kept.
      reload: (name) => this.#exclusive(() => reload(this.#lifecycle, name, { keepCrashes: true })),
      enqueue: (fn) => this.#exclusive(fn),
    });
    // No operator key: a token made here, which the admin API also asks of loopback clients (plugins are on
    // loopback); the server stores and prints it.
    this.adminKey = o.apiKey ?? generateAdminToken();
    const guard = { key: this.adminKey, local: o.apiKey === undefined, allowedHosts: o.allowedHosts };
    const deadline = (name: string) => o.limits[name]?.routeTimeout ?? o.routeTimeout;
    this.#lifecycle.ports.mcp =
      (this.mcp = new McpHub({ events: this.events, report: this.#report, deadline, guard, limits: o.mcp }))
        .registry;
    const app = createHttpApp({
      mcp: this.mcp,
      routes: this.routes,
      admin: this,
      report: this.#report,
      log: this.log,
      apiKey: this.adminKey,
      observability: obs,
      localAdmin: o.apiKey === undefined,
      allowedHosts: o.allowedHosts,
      limits: (name) => ({
        bodyLimit: o.limits[name]?.bodyLimit ?? o.bodyLimit,
        routeTimeout: deadline(name),
      }),
    });
    const noInfo = { info: undefined };
    this.fetch = (request, info) => app.fetch(request, info === undefined ? noInfo : { info });
  }

  /** The absolute plugins folder, or null when discovery is off. */
  get pluginsDir(): string | null {
    return this.#options.pluginsDir;
  }

  /**
   * Discovers and loads every plugin (the plugins folder and `plugins`), in
   * dependency order. Plugin failures are contained: it resolves anyway and
   * `list()` shows each failure with its reason.
   *
   * @returns every plugin's info
   * @throws {SettingsError} when Deno may not read the plugins folder
   */
  start(): Promise<PluginInfo[]> {
    if (this.#options.catchStrayFailures) {
      this.#stopCatching ??= catchStrayFailures({
        claim: (error) => claimStrayFailure(this.#lifecycle, error),
      });
    }
    return this.#exclusive(async () => {
      const dir = this.#options.pluginsDir;
      if (dir) assertReadableFolder(dir);
      this.storage.migrateLegacy(); // before any worker opens its plugin's file
      if (dir && await canSnapshot(join(dir, "x"))) await removeStaleSnapshots(dir);
      const found = dir ? await discoverPlugins(dir) : [];
      const sources: BatchSource[] = [...found, ...this.#options.plugins.map((s) => ({ hint: hintFor(s), source: s }))];
      warnUnknownNames(this.#lifecycle, sources);
      await loadBatch(this.#lifecycle, sources, { track: true });
      return this.list();
    });
  }

  /**
   * Loads one plugin from a local path or an http(s) URL. A refused or failed
   * load is thrown to the caller and changes no other plugin's record.
   *
   * @param source path (inside an allowed folder), URL (from an allowed host),
   *   or a plugin object defined in code (for tests and embedders)
   * @returns the plugin's info, active
   * @throws {PluginError} why it could not load
   */
  // deno-lint-ignore no-explicit-any
  load(source: string | PluginDefinition<any> | Record<string, unknown>): Promise<PluginInfo> {
    // A plugin defined in code (tests, embedders): no file, no import, no permission check.
    const from = typeof source === "string" ? source.trim() : this.#runtime.addInline(source);
    return this.#exclusive(async () => {
      const [outcome] = await loadBatch(this.#lifecycle, [{ hint: hintFor(from), source: from }], { track: false });
      if (outcome.error) throw outcome.error;
      return this.#registry.info(this.#registry.require(outcome.name));
    });
  }

  /**
   * Reloads a plugin from its source: the new version is imported, validated
   * and set up beside the old one, then swapped in; if anything fails, the old
   * version stays active. A failed or unloaded plugin is loaded afresh.
   *
   * @param name the plugin
   * @returns the plugin's info after the reload
   * @throws {PluginError} why the new version was refused
   */
  reload(name: string): Promise<PluginInfo> {
    return this.#exclusive(() => reload(this.#lifecycle, name));
  }

  /**
   * Unloads a plugin: its own unload hook runs, then everything it registered
   * is undone in reverse order. A failed or disabled plugin is just removed.
   *
   * @param name the plugin
   * @param options `cascade` to unload its dependents first
   * @returns the plugin's info, unloaded, and every plugin unloaded with it
   * @throws {PluginError} `NOT_FOUND`, or `CONFLICT` when others depend on it
   */
  unload(name: string, options: UnloadOptions = {}): Promise<UnloadResult> {
    return this.#exclusive(() => unloadWithDependents(this.#lifecycle, name, options.cascade ?? false));
  }

  /**
   * Deletes everything a plugin stored (keys, tables, migrations). Its data
   * otherwise survives reloads, restarts and unloads.
   *
   * @param name the plugin
   * @returns how many keys and tables were removed
   * @throws {PluginError} `CONFLICT` while the plugin is active
   */
  purge(name: string): Promise<{ keys: number; tables: number }> {
    return this.#exclusive(() => {
      if (this.#registry.get(name)?.state === "active") {
        throw new PluginError("CONFLICT", `Cannot purge the data of plugin "${name}": it is active. Unload it first`, {
          plugin: name,
        });
      }
      return Promise.resolve(this.storage.purge(name));
    });
  }

  /**
   * Unloads every plugin, in reverse dependency order. An isolated plugin's
   * HTTP requests in flight finish first, for up to its `routeTimeout` (or
   * `drainTimeout`); then each unload is bounded by the host's
   * `disposeTimeout`, and every plugin's teardown runs even when another's
   * fails or runs over.
   *
   * @param options `drainTimeout`: how long requests in flight may take to finish, in ms (a server that already waited
   *   for its requests passes 0)
   * @returns when every plugin is unloaded
   */
  stop(options: { drainTimeout?: number } = {}): Promise<void> {
    this.#watch?.close();
    this.#watch = undefined;
    this.observability.close();
    return this.#exclusive(async () => {
      await this.mcp.close();
      for (const name of [...this.#registry.activeOrder()].reverse()) {
        const record = this.#registry.get(name);
        if (record?.state === "active") await unload(this.#lifecycle, record, { drainMs: options.drainTimeout });
      }
      this.#lifecycle.close?.();
      this.storage.close();
      this.#stopCatching?.();
      this.#stopCatching = undefined;
    });
  }

  /**
   * Watches the plugins folder: a changed plugin folder (any file, config.json
   * included) is reloaded, a new one loaded, a deleted one unloaded (with its
   * dependents). Failures are logged, shown by `list()` and emitted as
   * `plugin.reload_failed` / `plugin.failed`; the previous version keeps serving.
   * `stop()` ends the watch.
   *
   * @param options the watcher's settle window (`settleMs`, default 10) and cap (`maxWaitMs`, default 250)
   * @returns a handle to stop watching
   * @throws {Error} when the host has no plugins folder
   */
  watch(options: WatchOptions = {}): FolderWatch {
    const dir = this.#options.pluginsDir;
    if (!dir) throw new TypeError("Cannot watch: the host has no pluginsDir");
    this.#watch?.close();
    const target = {
      cwd: this.#options.cwd,
      log: this.log,
      list: () => this.list(),
      load: (s: string) => this.load(s),
      reload: (n: string) => this.reload(n),
      unload: (n: string, o: UnloadOptions) => this.unload(n, o),
    };
    const watch = watchPluginFolders(dir, (folder, change) => {
      onFolderChange(target, folder, change).catch((err) => this.log.debug(`Watch: ${err?.message ?? err}`));
    }, options);
    this.#watch = watch;
    return watch;
  }

  /** Every known plugin (active, failed, disabled, unloaded). @returns snapshots, in the order first seen */
  list(): PluginInfo[] {
    return this.#registry.records().map((r) => this.mcp.describe(this.#registry.info(r)));
  }

  /** How many plugins are in each state, as `/health` shows it. @returns state → count, for the states in use */
  stateCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#registry.records()) counts[r.state] = (counts[r.state] ?? 0) + 1;
    return counts;
  }

  /** One plugin. @param name the plugin @returns its snapshot, or undefined */
  get(name: string): PluginInfo | undefined {
    const record = this.#registry.get(name);
    return record && this.mcp.describe(this.#registry.info(record));
  }

  /**
   * Checks a URL plugin's module graph against `plugboard.lock`: every module
   * is fetched again. Without `apply`, says what changed; with it, sets the
   * new version up beside the old one, swaps it in when it works, and re-pins.
   *
   * @param name the plugin
   * @param options `apply` to take the new version
   * @returns what changed, and (applied) the plugin's version
   * @throws {PluginError} `CONFLICT` for a plugin that is not a URL plugin; `REMOTE_NOT_PINNED` when the lock is frozen
   */
  update(name: string, options: { apply?: boolean } = {}): Promise<UpdateResult> {
    return this.#exclusive(() => update(this.#lifecycle, name, options));
  }

  /**
   * Lets a new version of an isolated plugin in although it asks for more
   * permissions than the active one: records the approval and reloads.
   *
   * @param name the plugin
   * @returns the plugin's info after the reload
   * @throws {PluginError} `NOT_FOUND`, `CONFLICT` when nothing waits for approval, or why the reload failed
   */
  approve(name: string): Promise<PluginInfo> {
    return this.#exclusive(() => approve(this.#lifecycle, name));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn).finally(() => this.#refreshDirectories());
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Tells every isolated plugin which services and hooks exist now. */
  #refreshDirectories(): void {
    for (const record of this.#registry.records()) record.live?.version.refreshDirectory?.();
  }
}
