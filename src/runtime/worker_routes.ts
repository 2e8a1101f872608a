/**
 * Routers and middleware inside a plugin's worker: served here, announced to
 * the host, which mounts stand-ins that forward requests.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import { Hono } from "hono";
import { type PluginRouter, type ResponseObserver, type ResponseRecord, RouteTable } from "../routes.ts";
import type { Rpc } from "./rpc.ts";

/** plugboard's HTTP error helpers: loaded with the first request, as they load `Response` (~1.2 MiB per worker). */
type PluginErrors = typeof import("../http/plugin_errors.ts");
let pluginErrors: Promise<PluginErrors> | undefined;

/**
 * Whether a request takes the build without the JSON guard: a GET or HEAD,
 * which has no body in Deno (`new Request` refuses one). A POST without one
 * still gets the guard, so that a route reading JSON from it answers 400,
 * not a failure of the plugin's.
 */
function bodiless(request: Request): boolean {
  const method = request.method;
  return method === "GET" || method === "HEAD";
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
  #serving: { plain: Hono; guarded: Hono } | undefined;
  /** Builds `#serving` for the router mounted last; run on its first request. */
  #build: ((errors: PluginErrors) => { plain: Hono; guarded: Hono }) | undefined;
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
    // The routes as they are now: the apps that serve them are built on the first request (a plugin that is never
    // asked pays for neither them nor the error helpers they use).
    const mounted = [...router.routes];
    // Two builds, as on the host: requests with a body get the JSON guard in front (malformed JSON read by a route
    // is the client's error, 400, not the plugin's); those without one take Hono's path for a lone handler.
    const build = ({ guardJsonBody, httpExceptionResponse }: PluginErrors, guarded: boolean) => {
      const app = new Hono();
      if (guarded) app.use(guardJsonBody);
      for (const r of mounted) {
        const path = r.path === base ? `${base}/` : r.path;
        if (r.method === "ALL") app.all(path, r.handler);
        else app.on(r.method, [path], r.handler);
      }
      app.onError((error) => {
        const own = httpExceptionResponse(error, name);
        if (own) return own;
        throw error;
      });
      return app;
    };
    this.#serving = undefined;
    this.#build = (errors) => ({ plain: build(errors, false), guarded: build(errors, true) });
    const routes: RouteSpec[] = mounted.map((r) => ({ method: r.method, path: r.path }));
    this.#rpc.notify("mount", { routes });
  }

  /**
   * Serves a request the host forwarded.
   *
   * @param request the request
   * @returns the plugin's response
   */
  serve(request: Request): Promise<Response> {
    const serving = this.#serving;
    if (!serving) {
      return this.#build ? this.#buildAndServe(request) : Promise.resolve(new Response(null, { status: 404 }));
    }
    return Promise.resolve((bodiless(request) ? serving.plain : serving.guarded).fetch(request));
  }

  /** The first request of a mounted router: loads the error helpers, builds its apps, and serves. */
  async #buildAndServe(request: Request): Promise<Response> {
    const loading = pluginErrors ??= import("../http/plugin_errors.ts");
    // A failed load is tried again by the next request, not remembered.
    const errors = await loading.catch((error) => {
      if (pluginErrors === loading) pluginErrors = undefined;
      throw error;
    });
    // Unmounted meanwhile: no build (serve answers 404); mounted again: the latest router's.
    if (!this.#serving && this.#build) this.#serving = this.#build(errors);
    this.#build = undefined;
    return this.serve(request);
  }

  /** Unmounts and tells the host. */
  override unmount(name: string, router: PluginRouter): boolean {
    const removed = super.unmount(name, router);
    if (removed) {
      this.#serving = undefined;
      this.#build = undefined;
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
      // Through the context, as the route's own answer would be in-process: headers the middleware set before next()
      // are kept, under the route's own.
      return c.newResponse(null, { status: meta.status as StatusCode, headers: new Headers(meta.headers) });
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
