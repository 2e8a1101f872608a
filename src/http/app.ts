/**
 * The host's HTTP side: `/health` and every plugin's routes (under
 * `/api/plugins/<name>/`) in one Hono router rebuilt when plugins change,
 * host-wide plugin middleware around it, and the admin API (`admin.ts`)
 * behind it. Plugin routes always start after `/api/plugins/<name>/` and
 * plugin names cannot hold a colon, so no plugin route can collide with the
 * admin API (`/api/plugins`, `/api/plugins/<name>`, `/api/plugins/<name>:reload`).
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { createAdminApp } from "./admin.ts";
import type { Host } from "../host.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import { adminGuard, type HostEnv } from "./auth.ts";
import { problemResponse } from "./problem.ts";

/** HTTP options of the host. */
export interface HttpOptions {
  /**
   * The admin API key, sent by clients as `X-API-Key`. Without one, the admin
   * API answers loopback clients only. @default undefined
   */
  apiKey?: string;
}

const failed = new WeakSet<object>();

/** The host's own endpoints: `/health` and the admin API (not plugin routes). */
function isHostPath(path: string): boolean {
  if (path === "/health" || path === PLUGIN_ROUTE_PREFIX) return true;
  if (!path.startsWith(`${PLUGIN_ROUTE_PREFIX}/`)) return false;
  return !path.slice(PLUGIN_ROUTE_PREFIX.length + 1).includes("/");
}

/**
 * Runs the host-wide middleware that plugins added, in order, around the
 * rest of the request. An error thrown by one is reported against its plugin
 * and answered with a 500 problem.
 */
function pluginMiddleware(host: Host): MiddlewareHandler<HostEnv> {
  return async (c, next) => {
    const list = host.routes.middleware;
    if (list.length === 0) return next();
    let reached = false;
    const hostPath = isHostPath(c.req.path);
    const dispatch = async (i: number): Promise<void> => {
      if (i === list.length) {
        reached = true;
        return await next();
      }
      try {
        const res = await list[i].handler(c, () => dispatch(i + 1));
        if (res && !hostPath) c.res = res;
      } catch (error) {
        if (typeof error === "object" && error !== null && failed.has(error)) throw error;
        if (typeof error === "object" && error !== null) failed.add(error);
        host.reportError("middleware", list[i].owner, error);
        throw error;
      }
    };
    try {
      await dispatch(0);
      if (!reached && hostPath) {
        // Plugin middleware may not answer for the host's own endpoints.
        host.log.warn(`A plugin middleware answered ${c.req.method} ${c.req.path} itself; the host answers instead`);
        await next();
      }
    } catch {
      const id = crypto.randomUUID();
      c.res = problemResponse(c, 500, {
        title: "Internal Server Error",
        detail: `A plugin middleware failed. The error is logged with id ${id}`,
        errorId: id,
      });
    }
  };
}

/** The host's HTTP side: a fetch handler over a router rebuilt when plugins change. */
export interface HttpApp {
  fetch(request: Request, env: HostEnv["Bindings"]): Response | Promise<Response>;
}

/** The plugin a path belongs to, for `/api/plugins/<name>/...`. */
function pluginOfPath(path: string): string | undefined {
  if (!path.startsWith(`${PLUGIN_ROUTE_PREFIX}/`)) return undefined;
  const rest = path.slice(PLUGIN_ROUTE_PREFIX.length + 1);
  const slash = rest.indexOf("/");
  return slash > 0 ? rest.slice(0, slash) : undefined;
}

/**
 * Builds the host's app. Health, the admin API and every mounted plugin's
 * routes live in one Hono router, so a plugin route costs one routing pass,
 * as on a bare Hono app. Hono cannot add routes once its matcher is built, so
 * when plugins are mounted, swapped or removed (or middleware changes) a new
 * app is built and swapped in on the next request; requests already running
 * finish on the app they started with.
 *
 * @param host the plugin host
 * @param options the admin key
 * @returns the fetch handler
 */
export function createHttpApp(host: Host, options: HttpOptions): HttpApp {
  const adminApp = createAdminApp(host, adminGuard(options.apiKey));
  adminApp.onError((error, c) => answerError(host, error, c));
  let app: Hono<HostEnv> | undefined;
  let builtFor = -1;
  return {
    fetch(request, env) {
      const version = host.routes.version;
      if (app === undefined || builtFor !== version) {
        app = buildApp(host, adminApp);
        builtFor = version;
      }
      return app.fetch(request, env);
    },
  };
}

function buildApp(host: Host, adminApp: Hono<HostEnv>): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  if (host.routes.middleware.length > 0) app.use(pluginMiddleware(host));
  app.get("/health", (c) => {
    const counts: Record<string, number> = {};
    for (const p of host.list()) counts[p.state] = (counts[p.state] ?? 0) + 1;
    return c.json({ status: "ok", plugins: counts });
  });

  for (const [name, router] of host.routes.entries()) {
    const base = `${PLUGIN_ROUTE_PREFIX}/${name}`;
    for (const r of router.routes) {
      // A plugin's root route is served with the trailing slash: without it the path is the admin API's.
      const path = r.path === base ? `${base}/` : r.path;
      const handler = r.handler as MiddlewareHandler<HostEnv>;
      if (r.method === "ALL") app.all(path, handler);
      else app.on(r.method, [path], handler);
    }
  }

  app.notFound((c) => {
    const path = c.req.path;
    if (
      path === PLUGIN_ROUTE_PREFIX || (path.startsWith(`${PLUGIN_ROUTE_PREFIX}/`) && pluginOfPath(path) === undefined)
    ) {
      // The admin API lives in its own router: its "/api/plugins/:name" routes
      // would push Hono's fast RegExpRouter back to its trie router for every route.
      return adminApp.fetch(c.req.raw, c.env);
    }
    const plugin = pluginOfPath(path);
    const detail = plugin === undefined
      ? `No route ${c.req.method} ${path}`
      : host.routes.get(plugin)
      ? `Plugin "${plugin}" has no route ${c.req.method} ${path}`
      : `No active plugin "${plugin}" serves routes`;
    return problemResponse(c, 404, { title: "Not Found", detail, ...(plugin ? { plugin } : {}) });
  });
  app.onError((error, c) => answerError(host, error, c));
  return app;
}

/** Answers an error thrown by a route: Hono's HTTPException as it says, anything else as a 500 problem. */
function answerError(host: Host, error: Error, c: Context<HostEnv>): Response {
  // Hono's HTTPException (from any copy of hono) carries its own response.
  const own = (error as { getResponse?: () => Response }).getResponse;
  if (typeof own === "function") return own.call(error);
  const plugin = pluginOfPath(c.req.path);
  const id = crypto.randomUUID();
  host.reportError("route", plugin, error);
  return problemResponse(c, 500, {
    title: "Internal Server Error",
    detail: `${plugin ? `A route of plugin "${plugin}"` : "The request"} failed. The error is logged with id ${id}`,
    errorId: id,
    ...(plugin ? { plugin } : {}),
  });
}
