/**
 * The context a plugin's `setup` receives. Everything registered through it
 * is tied to the plugin's {@linkcode Scope} and undone when it unloads.
 *
 * @module
 */
import { PluginError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { HostMiddleware, PluginRouter, ResponseObserver } from "./routes.ts";
import type { HostPorts } from "./runtime/runtime.ts";
import type { PluginSql, PluginStorage } from "./storage.ts";
import type { Scope } from "./scope.ts";
import { PluginEvents } from "./plugin_events.ts";
import { PluginServices } from "./plugin_services.ts";
import { PluginHooks } from "./plugin_hooks.ts";
import { createPluginMcp } from "./mcp/plugin_mcp.ts";
import type { McpPort } from "./mcp/port.ts";
import type { PluginMcp } from "./mcp/types.ts";

export { PluginEvents, PluginHooks, PluginServices };

/**
 * What a plugin's `setup` receives.
 *
 * @typeParam C the validated config type
 */
export interface PluginContext<C = Record<string, unknown>> {
  /** The plugin's name. */
  readonly name: string;
  /** The plugin's version. */
  readonly version: string;
  /** The path or URL it was loaded from. */
  readonly source: string;
  /** The validated config (defaults applied). */
  readonly config: C;
  /** A logger named after the plugin. */
  readonly log: Logger;
  /** The event bus; listeners are removed on unload. */
  readonly events: PluginEvents;
  /** The service container; services provided are removed on unload. */
  readonly services: PluginServices;
  /**
   * The plugin's Hono router, served at `/api/plugins/<name>/`. Add routes
   * during `setup`; they go live when setup completes and vanish on unload.
   */
  readonly routes: PluginRouter;
  /**
   * Adds host-wide middleware that runs around every request to a plugin
   * route (other plugins' included), in the order added, until unload. The
   * host's own endpoints (`/health`, the admin API) run no plugin code.
   */
  middleware(handler: HostMiddleware): void;
  /**
   * Observes every request to a plugin route (other plugins' included) once
   * its response is ready: method, path, route pattern, status and duration.
   * Cheaper than middleware, which runs in every request's path: an observer
   * runs after the answer and cannot change it. Removed on unload. In an
   * isolated plugin, records arrive in batches, up to 50 ms late.
   */
  onResponse(observer: ResponseObserver): void;
  /** Extension points: define them, or wrap those of the host and other plugins. */
  readonly hooks: PluginHooks;
  /** MCP tools, resources and prompts, listed to every MCP client as `<plugin>__<name>` (docs/PLUGINS.md). */
  readonly mcp: PluginMcp;
  /** The plugin's persistent key-value store (SQLite); kept across reloads, restarts and unloads. */
  readonly storage: PluginStorage;
  /** The plugin's own SQL tables (`{{name}}` in SQL), with migrations. */
  readonly sql: PluginSql;
  /**
   * The plugin's own data folder (`data/plugins/<name>/`), which it may read
   * and write whether isolated or not; its database lives there.
   */
  readonly dataDir: string;
  /** Aborted when the plugin unloads: pass it to `fetch`, streams and timers. */
  readonly signal: AbortSignal;
  /**
   * What the previous version handed over on reload (see `onHandover`);
   * undefined on a first load.
   */
  readonly previous: unknown;
  /**
   * Registers what to hand to the next version on reload. Called just before
   * the next version's `setup`, while this version still serves; hand over a
   * live object (a Map, a store) to keep state continuous.
   */
  onHandover(fn: () => unknown): void;
  /** Runs `fn` on unload, after the registrations are undone, in reverse order. */
  onDispose(fn: () => unknown): void;
  /** `setTimeout` that is cleared on unload; errors become `system.error`. */
  setTimeout(fn: () => unknown, ms: number): number;
  /** `setInterval` that is cleared on unload; errors become `system.error`. */
  setInterval(fn: () => unknown, ms: number): number;
  /** Clears a timer made by this context. */
  clearTimer(id: number): void;
  /** Asks the host to reload this plugin. */
  reload(): Promise<void>;
}

/** What {@linkcode createContext} needs: the host's ports and this version's own parts. */
export interface ContextParts<C> {
  name: string;
  version: string;
  source: string;
  config: C;
  previous: unknown;
  /** The plugin's own data folder. */
  dataDir: string;
  /** The version's scope: every registration is staged here. */
  scope: Scope;
  /** The host's shared tables. */
  ports: HostPorts;
  /** Stores the handover callback of this version. */
  setHandover: (fn: () => unknown) => void;
  /** Where the ids of its live timers are kept (a version that reports them passes its own). */
  timers?: Set<number>;
}

/**
 * Builds a plugin's context.
 *
 * @param parts what the host supplies
 * @returns the context
 */
export function createContext<C>(parts: ContextParts<C>): PluginContext<C> {
  const { scope, name, ports } = parts;
  const reportError = (origin: "timer", plugin: string, error: unknown) => ports.report({ origin, plugin, error });
  const timers = parts.timers ?? new Set<number>();
  scope.onDispose(() => {
    for (const id of timers) clearTimeout(id);
    timers.clear();
  }, "timers");
  const guard = (fn: () => unknown, id: () => number, repeat: boolean) => () => {
    if (!repeat) timers.delete(id());
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err) => reportError("timer", name, err));
    } catch (err) {
      reportError("timer", name, err);
    }
  };
  const timer = (fn: () => unknown, ms: number, repeat: boolean) => {
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot set a timer in plugin "${name}": callback must be a function, got ${typeof fn}`);
    }
    if (scope.signal.aborted) {
      throw new PluginError("UNLOADED", `Cannot set a timer in plugin "${name}": it has been unloaded`, {
        plugin: name,
      });
    }
    let id = 0;
    const cb = guard(fn, () => id, repeat);
    id = (repeat ? setInterval(cb, ms) : setTimeout(cb, ms)) as unknown as number;
    timers.add(id);
    return id;
  };
  // Each part is made on first use, as the host's tables behind it may be (a worker's are): a plugin that never
  // reads `ctx.hooks` costs nothing for them.
  let router: PluginRouter | undefined;
  let mcp: PluginMcp | undefined;
  let log: Logger | undefined;
  let events: PluginEvents | undefined;
  let services: PluginServices | undefined;
  let hooks: PluginHooks | undefined;
  return {
    name,
    get routes() {
      if (!router) {
        const r = router = ports.routes.createRouter(name);
        scope.register({
          activate: () => ports.routes.mount(name, r),
          deactivate: () => ports.routes.unmount(name, r),
        });
      }
      return router;
    },
    middleware(handler) {
      if (typeof handler !== "function") {
        throw new TypeError(`Cannot add middleware in plugin "${name}": expected a function, got ${typeof handler}`);
      }
      let remove: (() => void) | undefined;
      scope.register({
        activate: () => remove = ports.routes.addMiddleware(name, handler),
        deactivate: () => remove?.(),
      });
    },
    onResponse(observer) {
      if (typeof observer !== "function") {
        throw new TypeError(
          `Cannot add a response observer in plugin "${name}": expected a function, got ${typeof observer}`,
        );
      }
      let remove: (() => void) | undefined;
      scope.register({
        activate: () => remove = ports.routes.addObserver(name, observer),
        deactivate: () => remove?.(),
      });
    },
    version: parts.version,
    source: parts.source,
    config: parts.config,
    get log() {
      return log ??= ports.log.child(name);
    },
    get events() {
      return events ??= new PluginEvents(ports.events, scope);
    },
    get services() {
      return services ??= new PluginServices(ports.services, scope);
    },
    get hooks() {
      return hooks ??= new PluginHooks(ports.hooks, scope);
    },
    get mcp() {
      return mcp ??= createPluginMcp(name, ports.mcp ?? noMcp(name), scope);
    },
    get storage() {
      return ports.storage().kv(name);
    },
    get sql() {
      return ports.storage().sql(name);
    },
    signal: scope.signal,
    dataDir: parts.dataDir,
    previous: parts.previous,
    onHandover: (fn) => {
      if (typeof fn !== "function") {
        throw new TypeError(`Cannot set handover in plugin "${name}": expected a function, got ${typeof fn}`);
      }
      parts.setHandover(fn);
    },
    onDispose: (fn) => scope.onDispose(fn),
    setTimeout: (fn, ms) => timer(fn, ms, false),
    setInterval: (fn, ms) => timer(fn, ms, true),
    clearTimer: (id) => {
      clearTimeout(id);
      timers.delete(id);
    },
    reload: () => ports.reload(name),
  };
}

/** The MCP port of a host without one: every registration is refused, saying so. */
function noMcp(name: string): McpPort {
  return {
    add: () => {
      throw new PluginError("NOT_FOUND", `Cannot use ctx.mcp in plugin "${name}": this host has no MCP table`, {
        plugin: name,
      });
    },
  };
}
