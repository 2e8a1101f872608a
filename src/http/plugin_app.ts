/**
 * The plugin app: one Hono router holding every plugin's routes under
 * `/api/plugins/<name>/`, with the plugins' host-wide middleware in front
 * (each in a wrapper that owns its failures), built again when plugins
 * change; and how the failures of plugin routes are answered.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { getPath as honoGetPath } from "hono/utils/url";
import { limitBodySize } from "./body_limit.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import type { HostEnv } from "./auth.ts";
import type { HttpPorts } from "./ports.ts";
import { codeProblem, problem } from "./problem.ts";
import { indexOf, slice, startsWith } from "./_primordials.ts";
import { guardJsonBody, httpExceptionResponse, MALFORMED_JSON } from "./plugin_errors.ts";
import { DEFAULT_BODY_LIMIT } from "../options.ts";
import { directFetchOf, markDirect } from "./direct_routes.ts";

const PREFIX_SLASH = `${PLUGIN_ROUTE_PREFIX}/`;
const randomUUID = crypto.randomUUID.bind(crypto);
const decodeComponent = decodeURIComponent;

/**
 * The plugin a path belongs to, for `/api/plugins/<name>/...`: decoded as
 * the router decodes it, so `/api/plugins/%70/...` is plugin "p"'s (its
 * deadline, its errors).
 */
export function pluginOfPath(path: string): string | undefined {
  if (!startsWith(path, PREFIX_SLASH)) return undefined;
  const slash = indexOf(path, "/", PREFIX_SLASH.length);
  if (slash <= PREFIX_SLASH.length) return undefined;
  const name = slice(path, PREFIX_SLASH.length, slash);
  if (indexOf(name, "%") < 0) return name;
  try {
    return decodeComponent(name);
  } catch {
    return name;
  }
}

/** The request being sorted, and its path: read by the plugin router's `getPath` while it dispatches that request. */
export interface SortedPath {
  request: Request | undefined;
  path: string;
}

/**
 * The plugin router's `getPath`: the path the host sorted the request by, when the router asks for the request
 * being sorted (it asks first thing, synchronously); Hono's own reading of the URL otherwise.
 */
function pluginGetPath(sorted: SortedPath): (request: Request) => string {
  return (request) => request === sorted.request ? sorted.path : honoGetPath(request);
}

/**
 * Wraps one plugin's middleware so that its own failure is reported against
 * it and answered with a 500 problem; failures further in are answered by
 * Hono's error handler before they reach it.
 */
function owned(ports: HttpPorts, owner: string, handler: MiddlewareHandler): MiddlewareHandler<HostEnv> {
  return async (c, next) => {
    // What the rest of the chain threw (a route's failure Hono's error handler did not answer: a thrown non-Error)
    // passes through as it is: it is the route's, not this middleware's.
    let fromNext: { error: unknown } | undefined;
    const inner = async () => {
      try {
        await next();
      } catch (error) {
        fromNext = { error };
        throw error;
      }
    };
    try {
      return await handler(c, inner);
    } catch (error) {
      if (fromNext !== undefined && fromNext.error === error) throw error;
      const own = httpExceptionResponse(error, owner);
      if (own) return own;
      const id = randomUUID();
      ports.report({ origin: "middleware", plugin: owner, error, errorId: id });
      return problem(500, {
        title: "Internal Server Error",
        detail: `A middleware of plugin "${owner}" failed. The error is logged with id ${id}`,
        errorId: id,
      });
    }
  };
}

/**
 * One Hono router for every plugin's routes, rebuilt when plugins change.
 * With `limits`, the build for requests with a body: the body limit and the
 * JSON guard run in front of everything else.
 */
export function buildPluginApp(ports: HttpPorts, limits: HttpPorts["limits"], sorted: SortedPath): Hono<HostEnv> {
  const app = new Hono<HostEnv>({ getPath: pluginGetPath(sorted) });
  if (limits) {
    // One middleware for both guards: each extra middleware costs a pass through Hono's compose.
    const bodyGuards = pluginBodyLimit(limits);
    app.use(async (c, next) => {
      // The body limit answers 413 itself, without calling next: keep its response.
      const refused = await bodyGuards(
        c,
        async () => void await (guardJsonBody as MiddlewareHandler<HostEnv>)(c, next),
      );
      if (refused) c.res = refused;
    });
  }
  for (const m of ports.routes.middleware) app.use(owned(ports, m.owner, m.handler));
  const observed = ports.routes.observers.length > 0 || ports.observability?.answered !== undefined;
  for (const [name, router] of ports.routes.entries()) {
    const base = `${PREFIX_SLASH}${name}`;
    for (const r of router.routes) {
      // A plugin's root route is served with the trailing slash: without it the path is the admin API's.
      const path = r.path === base ? `${base}/` : r.path;
      if (!startsWith(path, `${base}/`)) {
        ports.log.warn(`Plugin "${name}" has a route outside its prefix ${base}/ (${r.method} ${r.path}): not served`);
        continue;
      }
      const forward = directFetchOf(r.handler);
      let handler = observed ? noteRoute(path, r.handler) : r.handler as MiddlewareHandler<HostEnv>;
      if (forward && handler !== r.handler) handler = markDirect(handler, forward);
      if (r.method === "ALL") app.all(path, handler);
      else app.on(r.method, [path], handler);
    }
  }
  // The same answer whether the plugin is not loaded or lacks the route, so
  // an unauthenticated client cannot enumerate plugins.
  app.notFound(noRoute);
  app.onError((error, c) => answerError(ports, error, c.req.path));
  return app;
}

/** The answer to a request no route answered, the host's or a plugin's (the same words for both). */
export function noRoute(c: Context<HostEnv>): Response {
  return problem(404, { title: "Not Found", detail: `No route ${c.req.method} ${c.req.path}` });
}

/** A route handler that notes its pattern for the response observers, then runs. */
function noteRoute(pattern: string, handler: MiddlewareHandler): MiddlewareHandler<HostEnv> {
  return (c, next) => {
    c.env.route = pattern;
    return handler(c, next);
  };
}

/** A body limit answering 413 problem+json; nothing beyond the limit is buffered. */
export function limitBody(maxSize: number, plugin?: string): MiddlewareHandler<HostEnv> {
  return limitBodySize(maxSize, () =>
    codeProblem(
      "PAYLOAD_TOO_LARGE",
      `The request body is larger than ${maxSize} bytes${plugin ? ` (the limit of plugin "${plugin}"'s routes)` : ""}`,
      plugin ? { plugin } : {},
    ));
}

/** The body limit of the plugin a request is for. */
function pluginBodyLimit(limits: NonNullable<HttpPorts["limits"]>): MiddlewareHandler<HostEnv> {
  const cache = new Map<string, MiddlewareHandler<HostEnv>>();
  return (c, next) => {
    const plugin = pluginOfPath(c.req.path) ?? "";
    const max = plugin ? limits(plugin).bodyLimit : DEFAULT_BODY_LIMIT;
    const key = `${plugin}\0${max}`;
    let mw = cache.get(key);
    if (!mw) cache.set(key, mw = limitBody(max, plugin || undefined));
    return mw(c, next);
  };
}

/**
 * The answer to a route whose headers were not ready within the plugin's
 * `routeTimeout`: 504, and the plugin is reported. Once the response exists
 * (a stream may keep flowing) no deadline applies.
 */
export function routeTimedOut(ports: HttpPorts, plugin: string, method: string, path: string, ms: number): Response {
  const error = new Error(`Route ${method} ${path} did not answer within ${ms} ms`);
  ports.report({ origin: "route", plugin, error });
  return codeProblem(
    "ROUTE_TIMEOUT",
    `A route of plugin "${plugin}" did not answer within ${ms} ms. The plugin is reported; raise "routeTimeout" ` +
      `under "limits.${plugin}" if it needs longer`,
    { plugin },
  );
}

/** Answers an error thrown by a route: Hono's HTTPException as a problem, anything else as a 500 problem. */
export function answerError(ports: HttpPorts, error: Error, path: string): Response {
  const plugin = pluginOfPath(path);
  const own = httpExceptionResponse(error, plugin);
  if (own) return own;
  if (error.name === MALFORMED_JSON) {
    return codeProblem("BAD_REQUEST", error.message, plugin ? { plugin } : {});
  }
  // Failures that are the moment's, not the plugin's bug: a busy database, a missing provider, a restarting
  // worker. The client may retry; the failure is still reported (warn-level for the log reader).
  const code = (error as { code?: unknown }).code;
  if (code === "STORAGE_BUSY" || code === "SERVICE_NOT_FOUND" || code === "PLUGIN_UNAVAILABLE") {
    ports.log.warn(`${error.message}${plugin ? ` (plugin "${plugin}")` : ""}`);
    const retryAfter = Number((error as { retryAfter?: unknown }).retryAfter ?? 1);
    return codeProblem(code, error.message, plugin ? { plugin } : {}, {
      "retry-after": String(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1),
    });
  }
  const id = randomUUID();
  ports.report({ origin: "route", plugin, error, errorId: id });
  return problem(500, {
    title: "Internal Server Error",
    detail: `${plugin ? `A route of plugin "${plugin}"` : "The request"} failed. The error is logged with id ${id}`,
    errorId: id,
    ...(plugin ? { plugin } : {}),
  });
}
