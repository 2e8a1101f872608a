/**
 * The plugin host: discovers, loads, sets up, reloads and unloads plugins,
 * and owns the event bus, the service container and the plugin routes.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { EnvReader } from "./config.ts";
import { createContext, type PluginContext } from "./context.ts";
import { dependentsOf, planLoadOrder } from "./dependencies.ts";
import { discoverPlugins } from "./discovery.ts";
import { findLocation, type SourceLocation } from "./error_location.ts";
import { PluginError } from "./errors.ts";
import type { ErrorOrigin, PlugboardEvents } from "./event_types.ts";
import { EventBus } from "./events.ts";
import { HookRegistry } from "./hooks.ts";
import { createHttpApp, type HttpOptions } from "./http/app.ts";
import { INLINE_SCHEME, manifestOfFailure, PluginLoader, type PreparedPlugin } from "./loader.ts";
import { Logger, type LoggerOptions } from "./logger.ts";
import { type NormalizedPlugin, PLUGIN_NAME_RE } from "./manifest.ts";
import type { PluginDefinition } from "./plugin.ts";
import type { PluginInfo, PluginState, PluginTimings } from "./plugin_info.ts";
import { RouteTable } from "./routes.ts";
import { Scope } from "./scope.ts";
import { satisfies } from "./semver.ts";
import { Container } from "./services.ts";
import { canSnapshot, removeSnapshot, removeStaleSnapshots } from "./snapshots.ts";
import { Storage, type StorageOptions } from "./storage.ts";
import { withTimeout } from "./timeout.ts";
import { type FolderChange, type FolderWatch, type WatchOptions, watchPluginFolders } from "./watcher.ts";

/** Options for {@linkcode createHost}. */
export interface HostOptions extends HttpOptions {
  /** The folder searched for plugins by `start()`; `null` for none. @default "./plugins" */
  pluginsDir?: string | null;
  /** Extra plugin sources (paths or URLs) loaded by `start()`. @default [] */
  plugins?: string[];
  /** Hosts (`name` or `name:port`) URL plugins may come from. @default [] */
  allowImport?: string[];
  /** Extra folders local plugins may be loaded from, besides `pluginsDir`. @default [] */
  allowRead?: string[];
  /** The folder relative paths start from. @default Deno.cwd() */
  cwd?: string;
  /** How long a plugin's `setup` may take, in ms. @default 10000 */
  setupTimeout?: number;
  /** How long importing a plugin module may take, in ms. @default 30000 */
  importTimeout?: number;
  /** Config per plugin name, merged over its `config.json` (the only config of URL plugins). @default {} */
  config?: Record<string, Record<string, unknown>>;
  /** Reads environment variables for `${VAR}` substitution. @default Deno.env.get */
  env?: EnvReader;
  /** Log level and sink. @default level "info" ("debug" with PLUGBOARD_DEBUG=1), console */
  logger?: LoggerOptions;
  /** The plugins' database (opened on first use). @default { path: "data/plugboard.db" } (relative to cwd) */
  storage?: StorageOptions;
}

/** Options for {@linkcode Host.unload}. */
export interface UnloadOptions {
  /** Unload the plugins that depend on it first instead of refusing. @default false */
  cascade?: boolean;
}

type Prepared = PreparedPlugin;

interface SetUpResult {
  scope: Scope;
  ctx: PluginContext<unknown>;
  handover?: () => unknown;
}

interface Entry {
  name: string;
  source: string;
  state: PluginState;
  error?: PluginError;
  plugin?: NormalizedPlugin;
  scope?: Scope;
  ctx?: PluginContext<unknown>;
  timings: PluginTimings;
  loadedAt?: Date;
  reloads: number;
  reloadError?: PluginError;
  reloadErrorLocation?: SourceLocation;
  /** The active version's handover callback. */
  handover?: () => unknown;
}

const DEFAULT_SETUP_TIMEOUT = 10_000;

/**
 * Creates a plugin host.
 *
 * @param options see {@linkcode HostOptions}
 * @returns the host, not started
 *
 * @example Load a plugin from a folder
 * ```ts
 * import { createHost } from "../mod.ts";
 * const host = createHost({ pluginsDir: null, logger: { level: "silent" } });
 * await host.start();
 * if (host.list().length !== 0) throw new Error();
 * await host.stop();
 * ```
 */
export function createHost(options: HostOptions = {}): Host {
  return new Host(options);
}

/**
 * A plugin host. Build it with {@linkcode createHost}.
 */
export class Host {
  /** The typed event bus shared by the host and every plugin. */
  readonly events: EventBus<PlugboardEvents>;
  /** The service container shared by the host and every plugin. */
  readonly services: Container;
  /** The host's logger. */
  readonly log: Logger;
  /** Mounted plugin routers and host-wide middleware. */
  readonly routes: RouteTable = new RouteTable();
  /** Extension points that plugins define and wrap. */
  readonly hooks: HookRegistry = new HookRegistry();
  /** The plugins' database: `ctx.storage` and `ctx.sql`. */
  readonly storage: Storage;
  /**
   * The whole HTTP server as a fetch handler: health, admin API and plugin
   * routes. Pass Deno.serve's `info` as the second argument so the admin API
   * can tell loopback clients.
   */
  readonly fetch: (request: Request, info?: Deno.ServeHandlerInfo) => Response | Promise<Response>;

  #options: HostOptions;
  #cwd: string;
  #pluginsDir: string | null;
  #entries = new Map<string, Entry>();
  /** Active plugins in activation order; stop() unloads in reverse. */
  #activeOrder: string[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #watch: FolderWatch | undefined;
  #loader: PluginLoader;

  /** @param options see {@linkcode HostOptions} */
  constructor(options: HostOptions = {}) {
    this.#options = options;
    this.#cwd = options.cwd ?? Deno.cwd();
    this.#pluginsDir = options.pluginsDir === null ? null : resolve(this.#cwd, options.pluginsDir ?? "./plugins");
    this.log = new Logger("plugboard", options.logger);
    this.#loader = new PluginLoader({ ...options, cwd: this.#cwd, pluginsDir: this.#pluginsDir, log: this.log });
    this.events = new EventBus<PlugboardEvents>({
      onUnhandled: (error, event, owner) =>
        this.log.error(`Handler of "${event}"${owner ? ` in plugin "${owner}"` : ""} failed`, error),
    });
    this.services = new Container();
    const dbPath = options.storage?.path ?? "data/plugboard.db";
    this.storage = new Storage({ path: dbPath === ":memory:" ? dbPath : resolve(this.#cwd, dbPath) });
    const app = createHttpApp(this, options);
    const noInfo = { info: undefined };
    this.fetch = (request, info) => app.fetch(request, info === undefined ? noInfo : { info });
  }

  /** The absolute plugins folder, or null when discovery is off. */
  get pluginsDir(): string | null {
    return this.#pluginsDir;
  }

  /**
   * Discovers and loads every plugin (the plugins folder and `plugins`), in
   * dependency order. Plugin failures are contained: it resolves anyway and
   * `list()` shows each failure with its reason.
   *
   * @returns every plugin's info
   */
  start(): Promise<PluginInfo[]> {
    return this.#exclusive(async () => {
      if (this.#pluginsDir && await canSnapshot(join(this.#pluginsDir, "x"))) {
        await removeStaleSnapshots(this.#pluginsDir);
      }
      const found = this.#pluginsDir ? await discoverPlugins(this.#pluginsDir) : [];
      const sources = [...found, ...(this.#options.plugins ?? []).map((s) => ({ hint: hintFor(s), source: s }))];
      await this.#loadBatch(sources);
      return this.list();
    });
  }

  /**
   * Loads one plugin from a local path or an http(s) URL.
   *
   * @param source path (inside an allowed folder), URL (from an allowed host),
   *   or a plugin object defined in code (for tests and embedders)
   * @returns the plugin's info, active
   * @throws {PluginError} why it could not load (also shown by `list()`)
   */
  // deno-lint-ignore no-explicit-any
  load(source: string | PluginDefinition<any> | Record<string, unknown>): Promise<PluginInfo> {
    if (typeof source !== "string") {
      // A plugin defined in code (tests, embedders): no file, no import, no permission check.
      source = this.#loader.addInline(source);
    }
    const from = source;
    return this.#exclusive(async () => {
      const entry = await this.#loadBatch([{ hint: hintFor(from), source: from }]);
      const e = entry[0];
      if (e.state !== "active") throw e.error ?? new PluginError("INVALID_PLUGIN", `Plugin "${e.name}" is ${e.state}`);
      return this.#info(e);
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
    return this.#exclusive(() => this.#reload(name));
  }

  /**
   * Unloads a plugin: its own unload hook runs, then everything it registered
   * is undone in reverse order. A failed or disabled plugin is just removed.
   *
   * @param name the plugin
   * @param options `cascade` to unload its dependents first
   * @returns the plugin's info, unloaded
   * @throws {PluginError} `NOT_FOUND`, or `CONFLICT` when others depend on it
   */
  unload(name: string, options: UnloadOptions = {}): Promise<PluginInfo> {
    return this.#exclusive(async () => {
      const entry = this.#require(name);
      if (entry.state !== "active") {
        this.#entries.delete(name);
        return { ...this.#info(entry), state: "unloaded" as const };
      }
      const dependents = dependentsOf(name, this.#activeNodes());
      if (dependents.length && !options.cascade) {
        throw new PluginError(
          "CONFLICT",
          `Cannot unload plugin "${name}": ${dependents.map((d) => `"${d}"`).join(", ")} depend${
            dependents.length === 1 ? "s" : ""
          } on it. Unload ${dependents.length === 1 ? "it" : "them"} first, or pass { cascade: true }`,
          { plugin: name },
        );
      }
      for (const d of dependents) await this.#unload(this.#entries.get(d)!);
      await this.#unload(entry);
      return this.#info(entry);
    });
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
      if (this.#entries.get(name)?.state === "active") {
        throw new PluginError(
          "CONFLICT",
          `Cannot purge the data of plugin "${name}": it is active. Unload it first`,
          { plugin: name },
        );
      }
      return Promise.resolve(this.storage.purge(name));
    });
  }

  /**
   * Unloads every plugin, in reverse dependency order.
   *
   * @returns when every plugin is unloaded
   */
  stop(): Promise<void> {
    this.#watch?.close();
    this.#watch = undefined;
    return this.#exclusive(async () => {
      for (const name of [...this.#activeOrder].reverse()) {
        const entry = this.#entries.get(name);
        if (entry?.state === "active") await this.#unload(entry);
      }
      this.storage.close();
    });
  }

  /**
   * Watches the plugins folder: a changed plugin folder (any file, config.json
   * included) is reloaded, a new one loaded, a deleted one unloaded (with its
   * dependents). Failures are logged, shown by `list()` and emitted as
   * `plugin.reload_failed` / `plugin.failed`; the previous version keeps serving.
   * `stop()` ends the watch.
   *
   * @param options debounce
   * @returns a handle to stop watching
   * @throws {Error} when the host has no plugins folder
   */
  watch(options: WatchOptions = {}): FolderWatch {
    const dir = this.#pluginsDir;
    if (!dir) throw new Error("Cannot watch: the host has no pluginsDir");
    this.#watch?.close();
    const watch = watchPluginFolders(dir, (folder, change) => {
      this.#onFolderChange(folder, change).catch((err) => this.log.debug(`Watch: ${err?.message ?? err}`));
    }, options);
    this.#watch = watch;
    return watch;
  }

  /**
   * Every known plugin (active, failed, disabled, unloaded).
   *
   * @returns snapshots, in the order they were first seen
   */
  list(): PluginInfo[] {
    return [...this.#entries.values()].map((e) => this.#info(e));
  }

  /**
   * One plugin.
   *
   * @param name the plugin
   * @returns its snapshot, or undefined
   */
  get(name: string): PluginInfo | undefined {
    const e = this.#entries.get(name);
    return e && this.#info(e);
  }

  /**
   * Reports a contained failure: logs it and emits `system.error`.
   *
   * @param origin what failed
   * @param plugin whose code failed
   * @param error the thrown value
   */
  reportError(origin: ErrorOrigin, plugin: string | undefined, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `${origin} error${plugin ? ` in plugin "${plugin}"` : ""}: ${reason}`;
    this.log.error(message, error);
    if (this.events.listenerCount("system.error") > 0) {
      this.events.emit("system.error", { origin, plugin, message, error });
    }
  }

  // -- internals -------------------------------------------------------------

  #onFolderChange(folder: string, change: FolderChange): Promise<unknown> {
    const inFolder = [...this.#entries.values()].find((e) =>
      !/^[a-z]+:/.test(e.source) && resolve(this.#cwd, e.source).startsWith(folder + "/")
    );
    if (change === "removed") {
      if (!inFolder) return Promise.resolve();
      this.log.info(`Plugin folder ${folder} was removed: unloading "${inFolder.name}"`);
      return this.unload(inFolder.name, { cascade: true });
    }
    if (inFolder && inFolder.state !== "unloaded") {
      this.log.info(`Plugin folder ${folder} changed: reloading "${inFolder.name}"`);
      return this.reload(inFolder.name);
    }
    const found = ["mod.ts", "mod.js"].map((f) => join(folder, f));
    this.log.info(`New plugin folder ${folder}: loading it`);
    return Promise.any(found.map((f) => Deno.stat(f).then(() => f))).then((f) => this.load(f));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #require(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) {
      const known = [...this.#entries.keys()].map((n) => `"${n}"`).join(", ") || "none";
      throw new PluginError("NOT_FOUND", `Cannot find plugin "${name}": no such plugin (known: ${known})`, {
        plugin: name,
      });
    }
    return entry;
  }

  #activeNodes() {
    return [...this.#entries.values()].filter((e) => e.state === "active" && e.plugin).map((e) => ({
      name: e.name,
      version: e.plugin!.meta.version,
      dependencies: e.plugin!.meta.dependencies,
    }));
  }

  #info(e: Entry): PluginInfo {
    const meta = e.plugin?.meta;
    return {
      name: e.name,
      version: meta?.version,
      description: meta?.description,
      author: meta?.author,
      state: e.state,
      source: e.source,
      dependencies: { ...meta?.dependencies },
      error: e.error?.message,
      errorCode: e.error?.code,
      services: e.state === "active" ? this.services.names(e.name) : [],
      routes: e.state === "active" ? this.routes.describe(e.name) : [],
      timings: { ...e.timings },
      loadedAt: e.loadedAt?.toISOString(),
      reloads: e.reloads,
      reloadError: e.reloadError?.message,
      reloadErrorLocation: e.reloadErrorLocation,
    };
  }

  #emit(event: keyof PlugboardEvents & `plugin.${string}`, e: Entry, extra: { durationMs?: number } = {}): void {
    this.events.emit(event, {
      name: e.name,
      version: e.plugin?.meta.version,
      source: e.source,
      error: e.error?.message,
      ...extra,
    });
  }

  #fail(e: Entry, error: unknown): void {
    e.state = "failed";
    e.error = error instanceof PluginError
      ? error
      : new PluginError("SETUP_FAILED", `Cannot load plugin "${e.name}": ${(error as Error)?.message ?? error}`, {
        plugin: e.name,
        source: e.source,
        cause: error,
      });
    this.log.error(e.error.message);
    this.#emit("plugin.failed", e);
  }

  /** Takes over the entry slot for a name, keeping the insertion position of a known one. */
  #track(name: string, source: string): Entry {
    const old = this.#entries.get(name);
    const entry: Entry = { name, source, state: "discovered", timings: {}, reloads: old?.reloads ?? 0 };
    this.#entries.set(name, entry);
    return entry;
  }

  async #loadBatch(sources: { hint: string; source: string }[]): Promise<Entry[]> {
    const pending = sources.map((s) => {
      const provisional = this.#entries.get(s.hint)?.state === "active" ? undefined : this.#track(s.hint, s.source);
      if (provisional) this.#emit("plugin.discovered", provisional);
      return { ...s, provisional };
    });
    const results = await Promise.all(pending.map(async (p) => {
      try {
        return { ...p, prepared: await this.#loader.prepare(p.source, p.hint) };
      } catch (error) {
        return { ...p, error };
      }
    }));
    const entries: Entry[] = [];
    const ready = new Map<string, { entry: Entry; prepared: Prepared }>();
    for (const r of results) {
      if (!("prepared" in r)) {
        const entry = r.provisional ?? this.#track(`${r.hint}`, r.source);
        entry.plugin = manifestOfFailure.get(r.error as object);
        this.#fail(entry, r.error);
        entries.push(entry);
        continue;
      }
      const { prepared } = r;
      const name = prepared.plugin.meta.name;
      if (r.provisional && r.provisional.name !== name) this.#entries.delete(r.provisional.name);
      const existing = this.#entries.get(name);
      if (existing?.state === "active" || ready.has(name)) {
        const other = ready.get(name)?.entry.source ?? existing!.source;
        const error = new PluginError(
          "CONFLICT",
          `Cannot load plugin "${name}" from ${prepared.checked.url.href}: a plugin with that name is already ${
            existing?.state === "active" ? "active" : "being loaded"
          } from ${other}. Rename one, or reload the active one instead`,
          { plugin: name, source: r.source },
        );
        const key = r.hint !== name && !this.#entries.has(r.hint) ? r.hint : `${name}-duplicate`;
        const failed = this.#track(key, r.source);
        this.#fail(failed, error);
        entries.push(failed);
        continue;
      }
      const entry = this.#track(name, r.source);
      entry.plugin = prepared.plugin;
      entry.timings = { importMs: round(prepared.importMs) };
      entries.push(entry);
      if (!prepared.enabled) {
        entry.state = "disabled";
        this.log.info(`Plugin "${name}" is disabled by its config.json`);
        continue;
      }
      ready.set(name, { entry, prepared });
    }
    const active = new Map(this.#activeNodes().map((n) => [n.name, n.version]));
    const plan = planLoadOrder(
      [...ready.values()].map(({ prepared: p }) => ({
        name: p.plugin.meta.name,
        version: p.plugin.meta.version,
        dependencies: p.plugin.meta.dependencies,
      })),
      active,
    );
    for (const [name, error] of plan.failures) this.#fail(ready.get(name)!.entry, error);
    const kept = new Set<Prepared>();
    for (const name of plan.order) {
      const { entry, prepared } = ready.get(name)!;
      const broken = Object.keys(prepared.plugin.meta.dependencies).find((d) =>
        ready.has(d) && this.#entries.get(d)?.state !== "active"
      );
      if (broken) {
        this.#fail(
          entry,
          new PluginError(
            "DEPENDENCY",
            `Cannot load plugin "${name}": its dependency "${broken}" failed to set up (${name} → ${broken})`,
            { plugin: name, source: entry.source },
          ),
        );
        continue;
      }
      await this.#activate(entry, prepared);
      if (entry.state === "active") kept.add(prepared);
    }
    // A version that did not become active does not need its snapshot.
    for (const r of results) {
      if ("prepared" in r && r.prepared.snapshot && !kept.has(r.prepared)) await removeSnapshot(r.prepared.snapshot);
    }
    return entries;
  }

  /** Runs setup in a staged scope; returns the scope and context, or throws (scope disposed). */
  async #setUp(
    entry: Entry,
    prepared: Prepared,
    previous?: unknown,
  ): Promise<SetUpResult> {
    const { plugin, snapshot } = prepared;
    const name = plugin.meta.name;
    const scope = new Scope(name);
    if (snapshot) scope.onDispose(() => removeSnapshot(snapshot), "snapshot removal");
    let handover: (() => unknown) | undefined;
    const ctx = createContext({
      name,
      version: plugin.meta.version,
      source: entry.source,
      config: prepared.config,
      log: this.log.child(name),
      scope,
      events: this.events,
      services: this.services,
      reportError: (origin, p, error) => this.reportError(origin, p, error),
      reload: async () => {
        await this.reload(name);
      },
      routeTable: this.routes,
      hooks: this.hooks,
      storage: () => this.storage,
      previous,
      setHandover: (fn) => handover = fn,
    });
    const timeout = this.#options.setupTimeout ?? DEFAULT_SETUP_TIMEOUT;
    try {
      await withTimeout(
        Promise.resolve().then(() => plugin.setup(ctx)),
        timeout,
        () =>
          new PluginError(
            "TIMEOUT",
            `Cannot load plugin "${name}": setup timed out after ${timeout} ms. ` +
              `Make sure setup() returns (or its promise settles), or raise the host's setupTimeout`,
            { plugin: name, source: entry.source },
          ),
      );
      const service = plugin.service?.();
      if (service !== undefined && !ctx.services.has(name)) ctx.services.provide(name, service);
    } catch (error) {
      const failures = await scope.dispose();
      for (const f of failures) this.reportError("dispose", name, f.error);
      if (error instanceof PluginError) throw error;
      throw new PluginError(
        "SETUP_FAILED",
        `Cannot load plugin "${name}": setup threw: ${(error as Error)?.message ?? error}`,
        { plugin: name, source: entry.source, cause: error },
      );
    }
    return { scope, ctx, handover };
  }

  async #activate(entry: Entry, prepared: Prepared): Promise<void> {
    const started = performance.now();
    entry.state = "loading";
    this.#emit("plugin.loading", entry);
    try {
      const { scope, ctx, handover } = await this.#setUp(entry, prepared);
      scope.commit();
      entry.scope = scope;
      entry.ctx = ctx;
      entry.handover = handover;
    } catch (error) {
      this.#fail(entry, error);
      return;
    }
    const setupMs = performance.now() - started;
    entry.state = "active";
    entry.error = undefined;
    entry.loadedAt = new Date();
    entry.timings = {
      importMs: entry.timings.importMs,
      setupMs: round(setupMs),
      totalMs: round(prepared.importMs + setupMs),
    };
    this.#activeOrder = [...this.#activeOrder.filter((n) => n !== entry.name), entry.name];
    this.log.debug(
      `Plugin "${entry.name}" active in ${entry.timings.totalMs} ms`,
    );
    this.#emit("plugin.loaded", entry, { durationMs: entry.timings.totalMs });
  }

  async #unload(entry: Entry): Promise<void> {
    entry.state = "unloading";
    this.#emit("plugin.unloading", entry);
    const { scope, ctx, plugin } = entry;
    const failures = scope
      ? await scope.dispose(plugin?.teardown && ctx ? () => plugin.teardown!(ctx) : undefined)
      : [];
    for (const f of failures) this.reportError("dispose", entry.name, f.error);
    entry.scope = undefined;
    entry.ctx = undefined;
    entry.state = "unloaded";
    this.#activeOrder = this.#activeOrder.filter((n) => n !== entry.name);
    this.#emit("plugin.unloaded", entry);
  }

  async #reload(name: string): Promise<PluginInfo> {
    const entry = this.#require(name);
    if (entry.state !== "active") {
      const [fresh] = await this.#loadBatch([{ hint: name, source: entry.source }]);
      if (fresh.state !== "active") throw fresh.error!;
      return this.#info(fresh);
    }
    const started = performance.now();
    const fail = async (error: unknown): Promise<never> => {
      if (snapshot) await removeSnapshot(snapshot);
      // The load pipeline says "Cannot load plugin"; here it is a reload, and the old version stays.
      const reason = String((error as Error)?.message ?? error).replace(/^Cannot load plugin "[^"]+": /, "");
      const err = new PluginError(
        error instanceof PluginError ? error.code : "SETUP_FAILED",
        `Cannot reload plugin "${name}": ${reason}`,
        { plugin: name, source: entry.source, cause: error },
      );
      const local = !/^[a-z]+:/.test(entry.source);
      const within = local ? resolve(this.#cwd, entry.source, "..") : entry.source.replace(/[^/]*$/, "");
      const location = findLocation(err, within, (p) => snapshot ? p.replace(snapshot, within) : p);
      entry.reloadError = err;
      entry.reloadErrorLocation = location;
      this.log.error(`Reload of "${name}" refused; the previous version keeps serving: ${err.message}`);
      this.events.emit("plugin.reload_failed", {
        name,
        version: entry.plugin?.meta.version,
        source: entry.source,
        error: err.message,
        location,
      });
      throw err;
    };
    let snapshot: string | undefined;
    let prepared: Prepared;
    try {
      prepared = await this.#loader.prepare(entry.source, name);
      snapshot = prepared.snapshot;
    } catch (error) {
      return fail(error);
    }
    const meta = prepared.plugin.meta;
    if (meta.name !== name) {
      return fail(
        new PluginError(
          "CONFLICT",
          `Cannot reload plugin "${name}": the new version is named "${meta.name}". A reload must keep the name`,
          { plugin: name, source: entry.source },
        ),
      );
    }
    const others = this.#activeNodes().filter((n) => n.name !== name);
    const plan = planLoadOrder(
      [{ name, version: meta.version, dependencies: meta.dependencies }],
      new Map(others.map((n) => [n.name, n.version])),
    );
    const planError = plan.failures.get(name);
    if (planError) return fail(planError);
    const broken = others.find((n) => n.dependencies[name] && !satisfies(meta.version, n.dependencies[name]));
    if (broken) {
      return fail(
        new PluginError(
          "DEPENDENCY",
          `Cannot reload plugin "${name}": "${broken.name}" needs ${name} ${broken.dependencies[name]}, ` +
            `but the new version is ${meta.version}`,
          { plugin: name, source: entry.source },
        ),
      );
    }
    if (!prepared.enabled) {
      return fail(
        new PluginError(
          "CONFLICT",
          `Cannot reload plugin "${name}": its config.json now says "enabled": false. Unload it instead`,
          { plugin: name },
        ),
      );
    }
    let previous: unknown;
    try {
      previous = entry.handover?.();
    } catch (error) {
      this.reportError("dispose", name, error);
    }
    let next: SetUpResult;
    try {
      next = await this.#setUp(entry, prepared, previous);
    } catch (error) {
      return fail(error);
    }
    // The swap: synchronous, so every event and request sees one version or the other.
    const old = { scope: entry.scope!, ctx: entry.ctx!, plugin: entry.plugin! };
    const deactivation = old.scope.deactivate();
    next.scope.commit();
    entry.scope = next.scope;
    entry.ctx = next.ctx;
    entry.handover = next.handover;
    entry.plugin = prepared.plugin;
    entry.reloads++;
    entry.reloadError = undefined;
    entry.reloadErrorLocation = undefined;
    entry.loadedAt = new Date();
    const setupMs = performance.now() - started - prepared.importMs;
    entry.timings = {
      importMs: round(prepared.importMs),
      setupMs: round(setupMs),
      totalMs: round(performance.now() - started),
    };
    const failures = [
      ...deactivation,
      ...await old.scope.dispose(old.plugin.teardown ? () => old.plugin.teardown!(old.ctx) : undefined),
    ];
    for (const f of failures) this.reportError("dispose", name, f.error);
    this.#emit("plugin.reloaded", entry, { durationMs: entry.timings.totalMs });
    // Dependents hold what they resolved from the old version: reload them, nearest first.
    for (const dependent of dependentsOf(name, this.#activeNodes()).reverse()) {
      await this.#reload(dependent).catch(() => {/* reported by #reload; the old dependent keeps serving */});
    }
    return this.#info(entry);
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** A name to report for a source before its manifest is read. */
function hintFor(source: string): string {
  if (source.startsWith(INLINE_SCHEME)) return source.slice(INLINE_SCHEME.length);
  const parts = source.replace(/[?#].*$/, "").split(/[\\/]/).filter(Boolean);
  let last = parts.pop() ?? "plugin";
  if (/^(mod|index|main|plugin)\.[cm]?[jt]sx?$/.test(last)) last = parts.pop() ?? last;
  const hint = last.replace(/\.[cm]?[jt]sx?$/, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return PLUGIN_NAME_RE.test(hint) ? hint : "plugin";
}
