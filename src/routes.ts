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

interface MiddlewareEntry {
  owner: string;
  handler: MiddlewareHandler;
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
  #version = 0;

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
    this.#version++;
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
    this.#version++;
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
  addMiddleware(owner: string, handler: MiddlewareHandler): () => void {
    const entry = { owner, handler };
    this.#middleware = [...this.#middleware, entry];
    this.#version++;
    return () => {
      this.#middleware = this.#middleware.filter((e) => e !== entry);
      this.#version++;
    };
  }
}
