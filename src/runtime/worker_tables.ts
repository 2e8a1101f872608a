/**
 * Inside a plugin's worker: stand-ins for the host's shared tables. The
 * plugin's context is built on them exactly as in-process, and each one
 * forwards to the host over the channel: a listener becomes a host-side
 * listener that calls back, a provided service a host-side async proxy, a
 * mounted router a host-side router that forwards requests, and so on.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { PluginError, ServiceNotFoundError } from "../errors.ts";
import { type EmitResult, EventBus, type ListenOptions } from "../events.ts";
import { HookRegistry, type HookWrapper } from "../hooks.ts";
import { type PluginRouter, type ResponseObserver, type ResponseRecord, RouteTable } from "../routes.ts";
import { Container, type ProvideOptions, type ResolveOptions } from "../services.ts";
import { guardJsonBody, httpExceptionResponse } from "../http/plugin_errors.ts";
import { mayEmit } from "../emit_rules.ts";
import { asyncProxy } from "./async_proxy.ts";
import type { Rpc } from "./rpc.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

/** What the host shares about the others: services and hooks, by name. */
export interface HostDirectory {
  /** Service name → owner. */
  services: Record<string, string>;
  /** Defined hook names. */
  hooks: string[];
}

/** The event bus in a worker: every listener lives on the host; emits go to the host. */
// deno-lint-ignore no-explicit-any
export class WorkerBus extends EventBus<any> {
  #rpc: Rpc;
  #plugin: string;
  #emits: readonly string[];
  #next = 1;
  #listeners = new Map<number, { event: string; fn: AnyFn; once: boolean }>();

  /**
   * @param rpc the channel to the host
   * @param plugin the plugin's name
   * @param emits the events its manifest says it emits
   */
  constructor(rpc: Rpc, plugin: string, emits: readonly string[]) {
    super();
    this.#rpc = rpc;
    this.#plugin = plugin;
    this.#emits = emits;
  }

  /** Registers the listener on the host, which calls back for each event. */
  override on(event: string, handler: AnyFn, options: ListenOptions = {}): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`Cannot listen to "${event}": handler must be a function, got ${typeof handler}`);
    }
    const id = this.#next++;
    this.#listeners.set(id, { event, fn: handler, once: options.once ?? false });
    this.#rpc.notify("listen", { id, event, once: options.once ?? false });
    return () => {
      if (this.#listeners.delete(id)) this.#rpc.notify("unlisten", { id });
    };
  }

  /** Removes a listener by its function. */
  override off(event: string, handler: (...args: never[]) => unknown): boolean {
    for (const [id, l] of this.#listeners) {
      if (l.event === event && l.fn === handler) {
        this.#listeners.delete(id);
        this.#rpc.notify("unlisten", { id });
        return true;
      }
    }
    return false;
  }

  /**
   * Sends the event to the host, which delivers it to every listener
   * (this plugin's own included).
   *
   * @returns 0: the count is known only on the host (use `emitAsync` for it)
   * @throws {PluginError} when the payload cannot be structured-cloned
   */
  override emit(event: string, payload: unknown): number {
    this.#assertMayEmit(event);
    try {
      this.#rpc.notify("emit", { event, payload });
    } catch (cause) {
      throw cloneError(event, cause);
    }
    return 0;
  }

  /** Emits on the host and waits for every listener there. */
  override async emitAsync(event: string, payload: unknown): Promise<EmitResult> {
    this.#assertMayEmit(event);
    try {
      return await this.#rpc.call<EmitResult>("emitAsync", { event, payload });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "DataCloneError") throw cloneError(event, cause);
      throw cause;
    }
  }

  #assertMayEmit(event: string): void {
    if (mayEmit(this.#plugin, this.#emits, event)) return;
    throw new PluginError(
      "PERMISSION_DENIED",
      `Plugin "${this.#plugin}" may not emit "${event}": declare it in "emits" of its manifest ` +
        `(its own "${this.#plugin}.*" events need no declaration; system.* and plugin.* belong to the host)`,
      { plugin: this.#plugin },
    );
  }

  /** How many listeners this plugin has (its own only). */
  override listenerCount(event?: string): number {
    let n = 0;
    for (const l of this.#listeners.values()) if (event === undefined || l.event === event) n++;
    return n;
  }

  /**
   * Calls the listener the host delivers to.
   *
   * @param id the listener
   * @param event the event's name
   * @param payload its payload
   * @returns what the handler returned (awaited by the host)
   */
  deliver(id: number, event: string, payload: unknown): unknown {
    const l = this.#listeners.get(id);
    if (!l) return undefined;
    if (l.once) this.#listeners.delete(id);
    return l.fn(payload, event);
  }
}

function cloneError(event: string, cause: unknown): PluginError {
  return new PluginError(
    "BAD_REQUEST",
    `Cannot emit "${event}" from an isolated plugin: its payload cannot be structured-cloned ` +
      `(${(cause as Error)?.message ?? cause}). Send plain data: objects, arrays, strings, numbers, Dates, Maps`,
    { cause },
  );
}

/** The service container in a worker: own services kept here and announced; others reached by async proxy. */
export class WorkerContainer extends Container {
  #rpc: Rpc;
  #directory: HostDirectory;

  /**
   * @param rpc the channel to the host
   * @param directory what the host provides, kept current by the host
   */
  constructor(rpc: Rpc, directory: HostDirectory) {
    super();
    this.#rpc = rpc;
    this.#directory = directory;
  }

  /** Provides locally and announces it to the host. */
  override provide(name: string, value: unknown, options: ProvideOptions = {}): void {
    super.provide(name as never, value as never, options);
    this.#rpc.notify("provide", { name });
  }

  /** Provides a lazily built service locally and announces it. */
  override factory(name: string, factory: () => unknown, options: ProvideOptions = {}): void {
    super.factory(name as never, factory as never, options);
    this.#rpc.notify("provide", { name });
  }

  /** Removes an own service and withdraws it from the host. */
  override remove(name: string, owner?: string): boolean {
    const removed = super.remove(name, owner);
    if (removed) this.#rpc.notify("unprovide", { name });
    return removed;
  }

  /** An own service as it is; another plugin's as an async proxy (every call returns a promise). */
  override resolve(name: string, options: ResolveOptions = {}): never {
    if (super.has(name)) return super.resolve(name, options) as never;
    if (name in this.#directory.services) {
      return asyncProxy((path, args) => this.#rpc.call("callService", { name, path, args })) as never;
    }
    throw new ServiceNotFoundError(name, options.requester, this.names());
  }

  /** Provided here or on the host. */
  override has(name: string): boolean {
    return super.has(name) || name in this.#directory.services;
  }

  /** Who provides a service. */
  override owner(name: string): string | undefined {
    return super.owner(name) ?? this.#directory.services[name];
  }

  /** Every service name known here (own and the host's). */
  override names(owner?: string): string[] {
    const remote = Object.entries(this.#directory.services).filter(([, o]) => owner === undefined || o === owner);
    return [...new Set([...super.names(owner), ...remote.map(([n]) => n)])].sort();
  }

  /**
   * Calls an own service for the host.
   *
   * @param name the service
   * @param path the property path to call (empty: the service itself)
   * @param args the arguments
   * @returns the result
   */
  invoke(name: string, path: string[], args: unknown[]): unknown {
    let target: unknown = super.resolve(name);
    let self: unknown = undefined;
    for (const key of path) {
      self = target;
      target = (target as Record<string, unknown>)?.[key];
    }
    if (typeof target !== "function") {
      if (args.length === 0) return target;
      throw new TypeError(`Service "${name}" has no method ${path.join(".") || "(call)"}`);
    }
    return (target as AnyFn).apply(self, args);
  }
}

/** Extension points in a worker: definitions and wrappers live on the host, implemented here. */
export class WorkerHooks extends HookRegistry {
  #rpc: Rpc;
  #directory: HostDirectory;
  #next = 1;
  #impls = new Map<string, AnyFn>();
  #wrappers = new Map<number, HookWrapper<AnyFn>>();

  /**
   * @param rpc the channel to the host
   * @param directory the host's hook names
   */
  constructor(rpc: Rpc, directory: HostDirectory) {
    super();
    this.#rpc = rpc;
    this.#directory = directory;
  }

  /** Defines the hook on the host; calls come back here. */
  override define(name: string, impl: AnyFn): () => void {
    if (typeof impl !== "function") {
      throw new TypeError(`Cannot define hook "${name}": implementation must be a function, got ${typeof impl}`);
    }
    this.#impls.set(name, impl);
    this.#rpc.notify("define", { name });
    return () => {
      if (this.#impls.get(name) === impl) {
        this.#impls.delete(name);
        this.#rpc.notify("undefine", { name });
      }
    };
  }

  /** Wraps the hook on the host; each call comes back here with a `next` that calls the host. */
  override wrap(name: string, wrapper: HookWrapper<AnyFn>): () => void {
    if (typeof wrapper !== "function") {
      throw new TypeError(`Cannot wrap hook "${name}": wrapper must be a function, got ${typeof wrapper}`);
    }
    const id = this.#next++;
    this.#wrappers.set(id, wrapper);
    this.#rpc.notify("wrap", { id, name });
    return () => {
      if (this.#wrappers.delete(id)) this.#rpc.notify("unwrap", { id });
    };
  }

  /** Defined here or on the host. */
  override has(name: string): boolean {
    return this.#impls.has(name) || this.#directory.hooks.includes(name);
  }

  /** Calls go to the host, through every wrapper there. */
  override get(name: string): never {
    return ((...args: unknown[]) => this.#rpc.call("callHook", { name, args })) as never;
  }

  /**
   * Runs this plugin's implementation of a hook for the host.
   *
   * @param name the hook
   * @param args its arguments
   * @returns its result
   */
  runImpl(name: string, args: unknown[]): unknown {
    const impl = this.#impls.get(name);
    if (!impl) throw new PluginError("NOT_FOUND", `Hook "${name}" is no longer defined here`);
    return impl(...args);
  }

  /**
   * Runs one of this plugin's wrappers for the host.
   *
   * @param id the wrapper
   * @param callId names the host's `next` for this call
   * @param args the arguments
   * @returns its result
   */
  runWrapper(id: number, callId: number, args: unknown[]): unknown {
    const wrapper = this.#wrappers.get(id);
    if (!wrapper) throw new PluginError("NOT_FOUND", `Hook wrapper ${id} is no longer registered`);
    const next = (...a: unknown[]) => this.#rpc.call("callNext", { callId, args: a });
    return wrapper(next)(...args);
  }
}

/** A route as announced to the host. */
export interface RouteSpec {
  method: string;
  path: string;
}

/** Routers and middleware in a worker: served here, announced to the host. */
export class WorkerRouteTable extends RouteTable {
  #rpc: Rpc;
  #next = 1;
  #middleware = new Map<number, Hono<{ Bindings: { callId: number } }>>();
  #serving: Hono | undefined;
  #observed = new Map<number, ResponseObserver>();

  /** @param rpc the channel to the host */
  constructor(rpc: Rpc) {
    super();
    this.#rpc = rpc;
  }

  /**
   * Mounts locally and announces the routes, so the host forwards matching
   * requests here. Requests are served by an app built from the router's
   * routes as the host builds its own (the plugin's root with a trailing slash;
   * errors other than `HTTPException` go back to the host, which reports them).
   */
  override mount(name: string, router: PluginRouter): void {
    super.mount(name, router);
    const base = `/api/plugins/${name}`;
    const app = new Hono();
    // As on the host: malformed JSON read by a route is the client's error (400), not the plugin's.
    app.use(guardJsonBody);
    for (const r of router.routes) {
      const path = r.path === base ? `${base}/` : r.path;
      if (r.method === "ALL") app.all(path, r.handler);
      else app.on(r.method, [path], r.handler);
    }
    app.onError((error) => {
      const own = httpExceptionResponse(error, name);
      if (own) return own;
      throw error;
    });
    this.#serving = app;
    const routes: RouteSpec[] = router.routes.map((r) => ({ method: r.method, path: r.path }));
    this.#rpc.notify("mount", { routes });
  }

  /**
   * Serves a request the host forwarded.
   *
   * @param request the request
   * @returns the plugin's response
   */
  serve(request: Request): Promise<Response> {
    if (!this.#serving) return Promise.resolve(new Response(null, { status: 404 }));
    return Promise.resolve(this.#serving.fetch(request));
  }

  /** Unmounts and tells the host. */
  override unmount(name: string, router: PluginRouter): boolean {
    const removed = super.unmount(name, router);
    if (removed) {
      this.#serving = undefined;
      this.#rpc.notify("unmount", {});
    }
    return removed;
  }

  /** Runs the middleware here for every host request; `next()` continues on the host. */
  override addMiddleware(_owner: string, handler: MiddlewareHandler): () => void {
    const id = this.#next++;
    const app = new Hono<{ Bindings: { callId: number } }>();
    app.use(handler);
    app.all("*", async (c) => {
      const meta = await this.#rpc.call<{ status: number; headers: [string, string][]; routePath: string }>(
        "middlewareNext",
        { callId: c.env.callId },
      );
      // Middleware reads the matched route after next(): make it the host's, not this stand-in's,
      // for c.req.routePath and for hono/route's routePath(c) and matchedRoutes(c).
      const route = { basePath: "/", path: meta.routePath, method: c.req.method, handler: () => {} };
      const matchKey = Object.getOwnPropertySymbols(Object.getPrototypeOf(c.req))
        .find((k) => typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(c.req), k)?.get === "function");
      if (matchKey) {
        Object.defineProperty(c.req, matchKey, { value: [[[[route.handler, route], {}]]], configurable: true });
      }
      Object.defineProperty(c.req, "routePath", { value: meta.routePath, configurable: true });
      c.req.routeIndex = 0;
      return new Response(null, { status: meta.status, headers: meta.headers });
    });
    app.onError((error) => {
      throw error;
    });
    this.#middleware.set(id, app);
    this.#rpc.notify("middleware", { id });
    return () => {
      if (this.#middleware.delete(id)) this.#rpc.notify("unmiddleware", { id });
    };
  }

  /** Observes here; the host sends the records of its requests in batches. */
  override addObserver(_owner: string, observer: ResponseObserver): () => void {
    const id = this.#next++;
    this.#observed.set(id, observer);
    this.#rpc.notify("observe", { id });
    return () => {
      if (this.#observed.delete(id)) this.#rpc.notify("unobserve", { id });
    };
  }

  /**
   * Tells one observer a batch of records from the host.
   *
   * @param id the observer
   * @param records what the host observed
   * @returns the failures of the observer, to report
   */
  observe(id: number, records: readonly ResponseRecord[]): unknown[] {
    const observer = this.#observed.get(id);
    const failures: unknown[] = [];
    if (!observer) return failures;
    for (const record of records) {
      try {
        observer(record);
      } catch (error) {
        failures.push(error);
      }
    }
    return failures;
  }

  /**
   * Runs one middleware for a host request.
   *
   * @param id the middleware
   * @param callId names the host's `next` for this request
   * @param request the request, without its body
   * @returns the resulting response
   */
  runMiddleware(id: number, callId: number, request: Request): Promise<Response> {
    const app = this.#middleware.get(id);
    if (!app) return Promise.resolve(new Response(null, { status: 404 }));
    return Promise.resolve(app.fetch(request, { callId }));
  }
}
