/**
 * The context a plugin's `setup` receives. Everything registered through it
 * is tied to the plugin's {@linkcode Scope} and undone when it unloads.
 *
 * @module
 */

import type { PlugboardEvents } from "./event_types.ts";
import type { EmitResult, EventBus, EventHandler, EventName, MatchingEvents, WildcardPattern } from "./events.ts";
import type { Logger } from "./logger.ts";
import type { HostMiddleware, PluginRouter, ResponseObserver } from "./routes.ts";
import type { HookRegistry, HookWrapper, PlugboardHooks } from "./hooks.ts";
import type { HostPorts } from "./runtime/runtime.ts";
import type { PluginSql, PluginStorage } from "./storage.ts";
import type { Scope } from "./scope.ts";
import { PluginError } from "./errors.ts";
import { type Container, type PlugboardServices, serviceConflict } from "./services.ts";

/**
 * The event bus as a plugin sees it: listeners are owned by the plugin and
 * removed when it unloads.
 */
export class PluginEvents<E extends PlugboardEvents = PlugboardEvents> {
  #bus: EventBus<E>;
  #scope: Scope;

  /**
   * Wraps the host's bus for one plugin; the host builds one per plugin, a
   * plugin only meets it as `ctx.events`.
   *
   * @param bus the host's bus
   * @param scope the plugin's scope: it owns every listener added here
   */
  constructor(bus: EventBus<E>, scope: Scope) {
    this.#bus = bus;
    this.#scope = scope;
  }

  /**
   * Listens to an event (or a wildcard such as `task.*`) until the plugin unloads.
   *
   * @param event name or pattern
   * @param handler called with the payload and the event's name
   * @returns a function that removes the listener now
   */
  on<K extends EventName<E>>(event: K, handler: EventHandler<E, K>): () => void;
  /**
   * Listens to every event a wildcard (`*`, or a prefix such as `task.*`)
   * matches, until the plugin unloads.
   *
   * @param pattern `*`, or a prefix ending in `*` such as `task.*`
   * @param handler called with the payload and the name of the event that matched
   * @returns a function that removes the listener now
   * @throws {TypeError} when `handler` is not a function
   */
  on<P extends WildcardPattern>(
    pattern: P,
    handler: (payload: E[MatchingEvents<E, P>], event: MatchingEvents<E, P>) => unknown,
  ): () => void;
  // deno-lint-ignore no-explicit-any
  on(event: string, handler: (payload: any, event: any) => unknown): () => void {
    return this.#listen(event, handler, false);
  }

  /**
   * Listens to the next occurrence of an event.
   *
   * @param event the name
   * @param handler called once
   * @returns a function that removes the listener now
   */
  once<K extends EventName<E>>(event: K, handler: EventHandler<E, K>): () => void {
    return this.#listen(event, handler as (payload: unknown, event: string) => unknown, true);
  }

  /**
   * Removes a listener this plugin added.
   *
   * @param event the name or pattern it was added with
   * @param handler the same function
   * @returns whether it was removed
   */
  off(event: string, handler: (...args: never[]) => unknown): boolean {
    return this.#bus.off(event, handler, this.#scope.owner);
  }

  /**
   * Emits an event to every listener of the host.
   *
   * @param event the name
   * @param payload the data
   * @returns how many listeners were called
   */
  emit<K extends EventName<E>>(event: K, payload: E[K]): number {
    return this.#bus.emit(event, payload);
  }

  /**
   * Emits an event and waits for every handler to settle.
   *
   * @param event the name
   * @param payload the data
   * @returns counts of handlers called and failed
   */
  emitAsync<K extends EventName<E>>(event: K, payload: E[K]): Promise<EmitResult> {
    return this.#bus.emitAsync(event, payload);
  }

  #listen(event: string, handler: (payload: unknown, event: string) => unknown, once: boolean): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(
        `Cannot listen to "${event}" in plugin "${this.#scope.owner}": handler must be a function, got ${typeof handler}`,
      );
    }
    let off: (() => void) | undefined;
    let removed = false;
    const bus = this.#bus as unknown as EventBus<Record<string, unknown>>;
    this.#scope.register({
      activate: () => {
        if (!removed) off = bus.on(event as "x", handler, { owner: this.#scope.owner, once });
      },
      deactivate: () => off?.(),
    });
    return () => {
      removed = true;
      off?.();
    };
  }
}

/**
 * The service container as a plugin sees it: what it provides is owned by it
 * and removed when it unloads; what it resolves names it in errors.
 */
export class PluginServices<S extends Record<string, unknown> = PlugboardServices & Record<string, unknown>> {
  #container: Container;
  #scope: Scope;
  #staged = new Map<string, () => unknown>();

  /**
   * Wraps the host's container for one plugin; the host builds one per
   * plugin, a plugin only meets it as `ctx.services`.
   *
   * @param container the host's container
   * @param scope the plugin's scope: it owns every service provided here
   */
  constructor(container: Container, scope: Scope) {
    this.#container = container;
    this.#scope = scope;
  }

  /**
   * Provides a service under a name until the plugin unloads.
   *
   * @param name unique name
   * @param value the service
   * @throws {PluginError} `CONFLICT` when another plugin provides the name
   */
  provide<K extends keyof S & string>(name: K, value: S[K]): void {
    this.#add(name, () => value, (c, owner) => c.provide(name, value as never, { owner }));
  }

  /**
   * Provides a lazily built service until the plugin unloads.
   *
   * @param name unique name
   * @param factory builds it on first resolve
   * @throws {PluginError} `CONFLICT` when another plugin provides the name
   */
  factory<K extends keyof S & string>(name: K, factory: () => S[K]): void {
    let built: { v: S[K] } | undefined;
    const once = () => (built ??= { v: factory() }).v;
    this.#add(name, once, (c, owner) => c.factory(name, once as never, { owner }));
  }

  /**
   * Resolves a service; this plugin's own staged services are found during setup.
   *
   * @param name the service
   * @returns the service
   * @throws {ServiceNotFoundError} naming this plugin as the requester
   */
  resolve<K extends keyof S & string>(name: K): S[K];
  /**
   * Resolves a service that {@linkcode PlugboardServices} does not type, as
   * the type the caller names (not checked at run time).
   *
   * @param name the service
   * @returns the service
   * @throws {ServiceNotFoundError} naming this plugin as the requester
   */
  resolve<T>(name: string): T;
  resolve(name: string): unknown {
    const staged = this.#staged.get(name);
    if (staged && !this.#container.has(name)) return staged();
    return this.#container.resolve(name, { requester: this.#scope.owner });
  }

  /**
   * Resolves a service, or returns undefined.
   *
   * @param name the service
   * @returns the service or undefined
   */
  tryResolve<T = unknown>(name: string): T | undefined {
    return this.has(name) ? this.resolve<T>(name) : undefined;
  }

  /**
   * Tells whether a service is provided (or staged by this plugin).
   *
   * @param name the service
   * @returns true when it can be resolved
   */
  has(name: string): boolean {
    return this.#container.has(name) || this.#staged.has(name);
  }

  #add(name: string, get: () => unknown, register: (c: Container, owner: string) => void): void {
    const owner = this.#scope.owner;
    const holder = this.#container.owner(name);
    if (this.#staged.has(name)) throw serviceConflict(name, owner, owner);
    if (this.#container.has(name) && holder !== owner) throw serviceConflict(name, owner, holder);
    this.#staged.set(name, get);
    this.#scope.register({
      activate: () => {
        this.#staged.delete(name);
        register(this.#container, owner);
      },
      deactivate: () => {
        this.#staged.delete(name);
        this.#container.remove(name, owner);
      },
    });
  }
}

/**
 * Extension points as a plugin sees them: what it defines or wraps is removed
 * when it unloads, whatever the order of unloads.
 */
// deno-lint-ignore no-explicit-any
export class PluginHooks<H extends Record<string, any> = PlugboardHooks & Record<string, any>> {
  #hooks: HookRegistry;
  #scope: Scope;

  /**
   * Wraps the host's hook registry for one plugin; the host builds one per
   * plugin, a plugin only meets it as `ctx.hooks`.
   *
   * @param hooks the host's registry
   * @param scope the plugin's scope: it owns every definition and wrapper added here
   */
  constructor(hooks: HookRegistry, scope: Scope) {
    this.#hooks = hooks;
    this.#scope = scope;
  }

  /**
   * Defines an extension point until the plugin unloads.
   *
   * @param name the hook
   * @param impl its base implementation
   */
  define<K extends keyof H & string>(name: K, impl: H[K]): void {
    let remove: (() => void) | undefined;
    this.#scope.register({
      activate: () => remove = this.#hooks.define(name, impl as never, { owner: this.#scope.owner }),
      deactivate: () => remove?.(),
    });
  }

  /**
   * Wraps an extension point until the plugin unloads.
   *
   * @param name the hook
   * @param wrapper receives `next`, returns the replacement
   */
  wrap<K extends keyof H & string>(name: K, wrapper: HookWrapper<H[K]>): void {
    let remove: (() => void) | undefined;
    this.#scope.register({
      activate: () => remove = this.#hooks.wrap(name, wrapper as never, { owner: this.#scope.owner }),
      deactivate: () => remove?.(),
    });
  }

  /**
   * Calls an extension point through its wrappers.
   *
   * @param name the hook
   * @param args its arguments
   * @returns its result
   */
  call<K extends keyof H & string>(name: K, ...args: Parameters<H[K]>): ReturnType<H[K]> {
    return (this.#hooks.get(name) as (...a: unknown[]) => ReturnType<H[K]>)(...args);
  }

  /**
   * Tells whether an extension point is defined.
   *
   * @param name the hook
   * @returns true when defined
   */
  has(name: string): boolean {
    return this.#hooks.has(name);
  }
}

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
  const timers = new Set<number>();
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
  let router: PluginRouter | undefined;
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
    log: ports.log.child(name),
    events: new PluginEvents(ports.events, scope),
    services: new PluginServices(ports.services, scope),
    hooks: new PluginHooks(ports.hooks, scope),
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
