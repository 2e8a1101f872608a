/**
 * The host's HTTP side. A request is first sorted by path: the host's own
 * endpoints (`/health` and the admin API: `/api/plugins`,
 * `/api/plugins/<name>`, `/api/plugins/<name>:action`) go to the host app,
 * where no plugin code runs; everything else goes to the plugin app: one Hono
 * router holding every plugin's routes under `/api/plugins/<name>/`, with the
 * plugins' host-wide middleware composed by Hono in front, each in a wrapper
 * that owns its failures. The plugin app is rebuilt when plugins change.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { createAdminApp } from "./admin.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import { adminGuard, type HostEnv } from "./auth.ts";
import type { HttpPorts } from "./ports.ts";
import { problem } from "./problem.ts";

/** The host's HTTP side: a fetch handler. */
export interface HttpApp {
  fetch(request: Request, env: HostEnv["Bindings"]): Response | Promise<Response>;
}

const PREFIX_SLASH = `${PLUGIN_ROUTE_PREFIX}/`;
const randomUUID = crypto.randomUUID.bind(crypto);

/**
 * The path of a request URL, without building a URL object.
 *
 * @param url an absolute URL
 * @returns its path
 */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 63 /* ? */ || ch === 35 /* # */) {
      end = i;
      break;
    }
  }
  return url.slice(start, end);
}

/**
 * Tells the host's own endpoints from plugin routes.
 *
 * @param path a request path
 * @returns true for `/health` and the admin API
 */
export function isHostPath(path: string): boolean {
  if (path === "/health" || path === PLUGIN_ROUTE_PREFIX || path === PREFIX_SLASH) return true;
  return path.startsWith(PREFIX_SLASH) && path.indexOf("/", PREFIX_SLASH.length) < 0;
}

/** The plugin a path belongs to, for `/api/plugins/<name>/...`. */
function pluginOfPath(path: string): string | undefined {
  if (!path.startsWith(PREFIX_SLASH)) return undefined;
  const slash = path.indexOf("/", PREFIX_SLASH.length);
  return slash > PREFIX_SLASH.length ? path.slice(PREFIX_SLASH.length, slash) : undefined;
}

/**
 * Builds the host's HTTP app from its ports.
 *
 * @param ports routes, admin operations, error reporter, logger, admin key
 * @returns the fetch handler
 */
export function createHttpApp(ports: HttpPorts): HttpApp {
  const hostApp = createHostApp(ports);
  let app: Hono<HostEnv> | undefined;
  let builtFor = -1;
  return {
    fetch(request, env) {
      if (isHostPath(pathOf(request.url))) return hostApp.fetch(request, env);
      const version = ports.routes.version;
      if (app === undefined || builtFor !== version) {
        app = buildPluginApp(ports);
        builtFor = version;
      }
      return app.fetch(request, env);
    },
  };
}

function createHostApp(ports: HttpPorts): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  app.get("/health", (c) => {
    const counts: Record<string, number> = {};
    for (const p of ports.admin.list()) counts[p.state] = (counts[p.state] ?? 0) + 1;
    return c.json({ status: "ok", plugins: counts });
  });
  app.route("/", createAdminApp(ports.admin, adminGuard(ports.apiKey)));
  app.notFound((c) => problem(404, { title: "Not Found", detail: `No route ${c.req.method} ${c.req.path}` }));
  app.onError((error, c) => answerError(ports, error, c));
  return app;
}

/**
 * Wraps one plugin's middleware so that its own failure is reported against
 * it and answered with a 500 problem; failures further in are answered by
 * Hono's error handler before they reach it.
 */
function owned(ports: HttpPorts, owner: string, handler: MiddlewareHandler): MiddlewareHandler<HostEnv> {
  return async (c, next) => {
    try {
      return await handler(c, next);
    } catch (error) {
      const own = httpExceptionResponse(error);
      if (own) return own;
      ports.report({ origin: "middleware", plugin: owner, error });
      const id = randomUUID();
      return problem(500, {
        title: "Internal Server Error",
        detail: `A middleware of plugin "${owner}" failed. The error is logged with id ${id}`,
        errorId: id,
      });
    }
  };
}

/** One Hono router for every plugin's routes, rebuilt when plugins change. */
function buildPluginApp(ports: HttpPorts): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  for (const m of ports.routes.middleware) app.use(owned(ports, m.owner, m.handler));
  for (const [name, router] of ports.routes.entries()) {
    const base = `${PREFIX_SLASH}${name}`;
    for (const r of router.routes) {
      // A plugin's root route is served with the trailing slash: without it the path is the admin API's.
      const path = r.path === base ? `${base}/` : r.path;
      if (!path.startsWith(`${base}/`)) {
        ports.log.warn(`Plugin "${name}" has a route outside its prefix ${base}/ (${r.method} ${r.path}): not served`);
        continue;
      }
      const handler = r.handler as MiddlewareHandler<HostEnv>;
      if (r.method === "ALL") app.all(path, handler);
      else app.on(r.method, [path], handler);
    }
  }
  app.notFound((c) => {
    const path = c.req.path;
    const plugin = pluginOfPath(path);
    const detail = plugin === undefined
      ? `No route ${c.req.method} ${path}`
      : ports.routes.get(plugin)
      ? `Plugin "${plugin}" has no route ${c.req.method} ${path}`
      : `No active plugin "${plugin}" serves routes`;
    return problem(404, { title: "Not Found", detail, ...(plugin ? { plugin } : {}) });
  });
  app.onError((error, c) => answerError(ports, error, c));
  return app;
}

/** The response an `HTTPException` (from any copy of hono) carries, if `error` is one. */
function httpExceptionResponse(error: unknown): Response | undefined {
  const own = (error as { getResponse?: () => Response } | null)?.getResponse;
  return typeof own === "function" ? own.call(error) : undefined;
}

/** Answers an error thrown by a route: Hono's HTTPException as it says, anything else as a 500 problem. */
function answerError(ports: HttpPorts, error: Error, c: Context<HostEnv>): Response {
  const own = httpExceptionResponse(error);
  if (own) return own;
  const plugin = pluginOfPath(c.req.path);
  const id = randomUUID();
  ports.report({ origin: "route", plugin, error });
  return problem(500, {
    title: "Internal Server Error",
    detail: `${plugin ? `A route of plugin "${plugin}"` : "The request"} failed. The error is logged with id ${id}`,
    errorId: id,
    ...(plugin ? { plugin } : {}),
  });
}
