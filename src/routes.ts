/**
 * The plugin routers mounted at `/api/plugins/<name>/`, and the host-wide
 * middleware that plugins add. A plugin registers routes on its own Hono
 * router; mounting, swapping or removing one is a Map write that bumps
 * `version`, and the host's HTTP app rebuilds its single combined router on
 * the next request (see `http/app.ts`).
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";

/** The URL prefix of plugin routes. */
export const PLUGIN_ROUTE_PREFIX = "/api/plugins";

/** A plugin's router: a Hono app whose base path is `/api/plugins/<name>`. */
export type PluginRouter = Hono;

/**
 * A host-wide middleware, as `ctx.middleware` takes it: a Hono middleware
 * handler (`async (c, next) => { ...; await next(); ... }`) that runs around
 * every request to a plugin route.
 */
export type HostMiddleware = MiddlewareHandler;

/** One host-wide middleware, as {@linkcode RouteTable.middleware} lists it. */
export interface MiddlewareEntry {
  /** The plugin that added it. */
  owner: string;
  /** The middleware itself. */
  handler: HostMiddleware;
}

/** What a response observer learns about one request to a plugin route, once its response is ready. */
export interface ResponseRecord {
  /** The request's method. */
  readonly method: string;
  /** The request's path. */
  readonly path: string;
  /** The pattern of the route that answered, such as `/api/plugins/tasks/:id`; undefined when none matched. */
  readonly route: string | undefined;
  /** The response's status. */
  readonly status: number;
  /**
   * Whole milliseconds from the request reaching the plugin routes to its response (headers) being ready, read
   * from the wall clock (`Date.now()`, as Hono's logger does; a high-resolution clock cost ~7% of throughput). A
   * request under a millisecond reads 0 or 1, so sums over many requests average right; a clock step (NTP)
   * can skew one record, never below 0.
   */
  readonly ms: number;
  /** When the response was ready: ms since the epoch, from the same clock reading as `ms` (set by the host). */
  readonly at?: number;
}

/** Told about every request to a plugin route after it is answered; see `ctx.onResponse`. */
export type ResponseObserver = (record: ResponseRecord) => void;

/** One response observer, as {@linkcode RouteTable.observers} lists it. */
export interface ObserverEntry {
  /** The plugin that added it. */
  owner: string;
  /** The observer itself. */
  observer: ResponseObserver;
}

/**
 * Mounted plugin routers and host-wide middleware.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RouteTable } from "./routes.ts";
 * const table = new RouteTable();
 * const app = table.createRouter("hello");
 * app.get("/hi", (c) => c.text("hi"));
 * table.mount("hello", app);
 * const res = await table.get("hello")!.fetch(new Request("http://x/api/plugins/hello/hi"));
 * assert.equal(await res.text(), "hi");
 * ```
 */
export class RouteTable {
  #routers = new Map<string, PluginRouter>();
  #middleware: readonly MiddlewareEntry[] = [];
  #observers: readonly ObserverEntry[] = [];
  #version = 0;
  #listeners: (() => void)[] = [];

  /**
   * Calls `fn` after every mount, unmount and middleware change (the HTTP app
   * rebuilds its router then, instead of on the next request).
   *
   * @param fn the listener
   */
  onChange(fn: () => void): void {
    this.#listeners.push(fn);
  }

  #changed(): void {
    this.#version++;
    for (const fn of this.#listeners) fn();
  }

  /** Grows on every mount, unmount and middleware change, so the app can tell when to rebuild. */
  get version(): number {
    return this.#version;
  }

  /** The mounted routers by plugin name. */
  entries(): IterableIterator<[string, PluginRouter]> {
    return this.#routers.entries();
  }

  /**
   * A fresh router for a plugin, based at `/api/plugins/<name>`.
   *
   * @param name the plugin
   * @returns the router, not yet mounted
   */
  createRouter(name: string): PluginRouter {
    return new Hono().basePath(`${PLUGIN_ROUTE_PREFIX}/${name}`);
  }

  /**
   * Mounts (or atomically replaces) a plugin's router.
   *
   * @param name the plugin
   * @param router its router
   */
  mount(name: string, router: PluginRouter): void {
    this.#routers.set(name, router);
    this.#changed();
  }

  /**
   * Unmounts a plugin's router, only if `router` is the one mounted (so an
   * old version's cleanup never removes its successor).
   *
   * @param name the plugin
   * @param router the router to remove
   * @returns whether it was removed
   */
  unmount(name: string, router: PluginRouter): boolean {
    if (this.#routers.get(name) !== router) return false;
    this.#changed();
    return this.#routers.delete(name);
  }

  /**
   * The router mounted for a plugin.
   *
   * @param name the plugin
   * @returns the router or undefined
   */
  get(name: string): PluginRouter | undefined {
    return this.#routers.get(name);
  }

  /** How many routers are mounted. */
  get size(): number {
    return this.#routers.size;
  }

  /**
   * The routes a plugin serves, as `METHOD /path`.
   *
   * @param name the plugin
   * @returns route descriptions; empty when none is mounted
   */
  describe(name: string): string[] {
    const router = this.#routers.get(name);
    if (!router) return [];
    const seen = new Set<string>();
    const base = `${PLUGIN_ROUTE_PREFIX}/${name}`;
    for (const r of router.routes) {
      const isMiddleware = r.method === "ALL" && r.path.endsWith("*");
      if (!isMiddleware) seen.add(`${r.method} ${r.path === base ? `${base}/` : r.path}`);
    }
    return [...seen];
  }

  /** Host-wide middleware, in the order added; a new array after every change. */
  get middleware(): readonly MiddlewareEntry[] {
    return this.#middleware;
  }

  /**
   * Adds host-wide middleware; it runs around every request, after those added before it.
   *
   * @param owner the plugin adding it
   * @param handler a Hono middleware
   * @returns a function that removes it
   */
  addMiddleware(owner: string, handler: HostMiddleware): () => void {
    const entry = { owner, handler };
    this.#middleware = [...this.#middleware, entry];
    this.#changed();
    return () => {
      this.#middleware = this.#middleware.filter((e) => e !== entry);
      this.#changed();
    };
  }

  /** Response observers, in the order added; a new array after every change. */
  get observers(): readonly ObserverEntry[] {
    return this.#observers;
  }

  /**
   * Adds a response observer: told about every request to a plugin route
   * once its response is ready, without running in the request's path.
   *
   * @param owner the plugin adding it
   * @param observer called with each {@linkcode ResponseRecord}
   * @returns a function that removes it
   */
  addObserver(owner: string, observer: ResponseObserver): () => void {
    const entry = { owner, observer };
    this.#observers = [...this.#observers, entry];
    this.#changed();
    return () => {
      this.#observers = this.#observers.filter((e) => e !== entry);
      this.#changed();
    };
  }
}
