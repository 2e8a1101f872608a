/**
 * The host's HTTP side. A request is first sorted by path: the host's own
 * endpoints (`/health` and the admin API: `/api/plugins`,
 * `/api/plugins/<name>`, `/api/plugins/<name>:action`) go to the host app,
 * where no plugin code runs; everything else goes to the plugin app: one Hono
 * router holding every plugin's routes under `/api/plugins/<name>/`, with the
 * plugins' host-wide middleware composed by Hono in front, each in a wrapper
 * that owns its failures. The plugin app is rebuilt when plugins change.
 *
 * Requests to plugin routes are the hot path: the path is found once (the
 * plugin router is handed it rather than reading the URL again), and a request
 * observed by the host alone (access log, metrics) costs two reads of the wall
 * clock, a bindings object and one call with its fields, no record.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { getPath as honoGetPath } from "hono/utils/url";
import { limitBodySize } from "./body_limit.ts";
import { createAdminApp } from "./admin.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import { adminGuard, type HostEnv } from "./auth.ts";
import type { HttpPorts } from "./ports.ts";
import type { ObserverEntry, ResponseRecord } from "../routes.ts";
import { codeProblem, jsonResponse, problem } from "./problem.ts";
import { indexOf, slice, startsWith } from "./_primordials.ts";
import { guardJsonBody, httpExceptionResponse, MALFORMED_JSON } from "./plugin_errors.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_ROUTE_TIMEOUT } from "../options.ts";
import { Deadlines } from "./deadlines.ts";
import { mountObservability } from "./dashboard/mount.ts";

/** The MCP endpoint, as the HTTP side reaches it (`src/mcp/hub.ts`). */
export interface McpHttpPort {
  fetch(request: Request, client?: string): Promise<Response>;
}

/** The host's HTTP side: a fetch handler. */
export interface HttpApp {
  fetch(request: Request, env: HostEnv["Bindings"]): Response | Promise<Response>;
}

const PREFIX_SLASH = `${PLUGIN_ROUTE_PREFIX}/`;
const randomUUID = crypto.randomUUID.bind(crypto);
// Response observers are timed with the wall clock in whole milliseconds, as Hono's logger is: under wrk here two
// `performance.now()` reads per request cost the shipped set ~7% of its throughput, two `Date.now()` reads ~1%.
const wallClock = Date.now;
const hostSetTimeout = setTimeout;
const decodeComponent = decodeURIComponent;

/** The longest request URL answered, in characters; longer ones get 414. */
export const MAX_URL_LENGTH = 8192;

/**
 * The path of a request URL, without building a URL object.
 *
 * @param url an absolute URL
 * @returns its path
 */
function pathOf(url: string): string {
  const start = indexOf(url, "/", indexOf(url, "://") + 3);
  if (start < 0) return "/";
  let end = indexOf(url, "?", start);
  if (end < 0) end = url.length;
  const hash = indexOf(url, "#", start);
  if (hash >= 0 && hash < end) end = hash;
  return end === url.length && start === 0 ? url : slice(url, start, end);
}

/**
 * Tells the host's own endpoints from plugin routes.
 *
 * @param path a request path
 * @returns true for `/health` and the admin API
 */
export function isHostPath(path: string): boolean {
  // Plugin routes first: `/api/plugins/<name>` and `/api/plugins/` are the admin API's, anything deeper a plugin's.
  // (`indexOf` at 0 rather than `startsWith`: ~4x faster here on a path sliced from the URL.)
  if (indexOf(path, PREFIX_SLASH) === 0) return indexOf(path, "/", PREFIX_SLASH.length) < 0;
  return path === "/health" || path === PLUGIN_ROUTE_PREFIX || path === "/" || path === "/metrics" ||
    path === "/api/events" || startsWith(path, "/admin");
}

/**
 * The plugin a path belongs to, for `/api/plugins/<name>/...`: decoded as
 * the router decodes it, so `/api/plugins/%70/...` is plugin "p"'s (its
 * deadline, its errors).
 */
function pluginOfPath(path: string): string | undefined {
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

/**
 * Builds the host's HTTP app from its ports.
 *
 * @param ports routes, admin operations, error reporter, logger, admin key, and the MCP endpoint (`/mcp`)
 * @returns the fetch handler
 */
export function createHttpApp(ports: HttpPorts & { mcp?: McpHttpPort }): HttpApp {
  const hostApp = createHostApp(ports);
  const limits = ports.limits ?? (() => ({ bodyLimit: DEFAULT_BODY_LIMIT, routeTimeout: DEFAULT_ROUTE_TIMEOUT }));
  const deadlines = new Deadlines();
  // The path sorted below, handed to the plugin router (`pluginGetPath`) instead of Hono finding it in the URL again.
  const sorted: SortedPath = { request: undefined, path: "" };
  // Two builds of the same routes: requests without a body skip the body guards entirely, so a plugin route with
  // no host-wide middleware takes Hono's single-handler path, as in a bare Hono app.
  let plain: Hono<HostEnv> | undefined;
  let guarded: Hono<HostEnv> | undefined;
  let builtFor = -1;
  // Rebuild after plugins change (once per burst of changes, in the next macrotask: a batch activating a hundred
  // plugins builds once), not on the next request: building the router and compiling Hono's matcher takes
  // milliseconds that no request should wait for. A request that comes first builds it itself.
  let scheduled = false;
  const rebuild = () => {
    scheduled = false;
    const version = ports.routes.version;
    if (builtFor === version) return;
    plain = buildPluginApp(ports, undefined, sorted);
    guarded = buildPluginApp(ports, limits, sorted);
    plain.router.match("GET", "/");
    guarded.router.match("GET", "/");
    builtFor = version;
  };
  ports.routes.onChange(() => {
    if (scheduled) return;
    scheduled = true;
    Deno.unrefTimer(hostSetTimeout(rebuild, 0));
  });
  // The host's own observer (access log, metrics) goes last, after the plugins' (`ctx.onResponse`), told field by
  // field: a request observed by the host alone builds no record.
  const answered = ports.observability?.answered;
  const timedOut = (plugin: string, method: string, path: string, ms: number) => () =>
    routeTimedOut(ports, plugin, method, path, ms);
  return {
    fetch(request, env) {
      const url = request.url;
      if (url.length > MAX_URL_LENGTH) {
        return codeProblem(
          "URI_TOO_LONG",
          `The request URL has ${url.length} characters; at most ${MAX_URL_LENGTH} are answered`,
        );
      }
      const path = pathOf(url);
      if (path === "/mcp" && ports.mcp) {
        const addr = env?.info?.remoteAddr;
        return ports.mcp.fetch(request, addr && "hostname" in addr ? addr.hostname : undefined);
      }
      if (isHostPath(path)) return hostApp.fetch(request, env);
      if (builtFor !== ports.routes.version) rebuild();
      // The JSON guard for anything but a bodiless GET or HEAD: a POST without a body read as JSON is a 400.
      const method = request.method;
      const app = (method === "GET" || method === "HEAD") && request.body === null ? plain! : guarded!;
      const observers = ports.routes.observers;
      // Hono decodes a path with a percent sign: that one it finds itself.
      sorted.request = indexOf(path, "%") < 0 ? request : undefined;
      sorted.path = path;
      if (answered === undefined && observers.length === 0) {
        const response = app.fetch(request, env);
        sorted.request = undefined;
        if (!(response instanceof Promise)) return response;
        const plugin = pluginOfPath(path);
        if (plugin === undefined) return response;
        const ms = limits(plugin).routeTimeout;
        return deadlines.watch(response, ms, timedOut(plugin, method, path, ms));
      }
      // Observed: the route handlers of this build note their pattern in the request's own bindings.
      const started = wallClock();
      const bindings: HostEnv["Bindings"] = { info: env?.info, route: undefined };
      const response = app.fetch(request, bindings);
      sorted.request = undefined;
      if (!(response instanceof Promise)) {
        const at = wallClock();
        if (observers.length !== 0) {
          tellObservers(ports, observers, method, path, bindings.route, response.status, started, at);
        }
        answered?.(method, path, bindings.route, response.status, at > started ? at - started : 0, at);
        return response;
      }
      const plugin = pluginOfPath(path);
      const ms = plugin === undefined ? 0 : limits(plugin).routeTimeout;
      const answer = plugin === undefined
        ? response
        : deadlines.watch(response, ms, timedOut(plugin!, method, path, ms));
      return Promise.resolve(answer).then((res) => {
        const at = wallClock();
        if (observers.length !== 0) {
          tellObservers(ports, observers, method, path, bindings.route, res.status, started, at);
        }
        answered?.(method, path, bindings.route, res.status, at > started ? at - started : 0, at);
        return res;
      });
    },
  };
}

/** The request being sorted, and its path: read by the plugin router's `getPath` while it dispatches that request. */
interface SortedPath {
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

/** Tells every plugin's response observer about one answered request; an observer's failure is its plugin's. */
function tellObservers(
  ports: HttpPorts,
  observers: readonly ObserverEntry[],
  method: string,
  path: string,
  route: string | undefined,
  status: number,
  started: number,
  at: number,
): void {
  const record: ResponseRecord = { method, path, route, status, ms: at > started ? at - started : 0, at };
  for (let i = 0; i < observers.length; i++) {
    const { owner, observer } = observers[i];
    try {
      observer(record);
    } catch (error) {
      ports.report({ origin: "observer", plugin: owner, error });
    }
  }
}

function createHostApp(ports: HttpPorts): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  app.get("/health", () => jsonResponse({ status: "ok", plugins: ports.admin.stateCounts() }));
  const audit = (line: string, refused: boolean) => refused ? ports.log.warn(line) : ports.log.info(line);
  const guard = adminGuard({
    key: ports.apiKey,
    local: ports.localAdmin ?? false,
    allowedHosts: ports.allowedHosts ?? [],
    audit,
  });
  // Admin bodies are small ({"source": ...}): 64 KiB is plenty, and nothing larger is buffered.
  app.use(`${PLUGIN_ROUTE_PREFIX}/*`, limitBody(64 * 1024));
  app.use(PLUGIN_ROUTE_PREFIX, limitBody(64 * 1024));
  app.route("/", createAdminApp(ports.admin, guard, ports.observability));
  if (ports.observability) mountObservability(app, ports, guard);
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
      const own = httpExceptionResponse(error, owner);
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

/**
 * One Hono router for every plugin's routes, rebuilt when plugins change.
 * With `limits`, the build for requests with a body: the body limit and the
 * JSON guard run in front of everything else.
 */
function buildPluginApp(ports: HttpPorts, limits: HttpPorts["limits"], sorted: SortedPath): Hono<HostEnv> {
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
      const handler = observed ? noteRoute(path, r.handler) : r.handler as MiddlewareHandler<HostEnv>;
      if (r.method === "ALL") app.all(path, handler);
      else app.on(r.method, [path], handler);
    }
  }
  // The same answer whether the plugin is not loaded or lacks the route, so
  // an unauthenticated client cannot enumerate plugins.
  app.notFound((c) => problem(404, { title: "Not Found", detail: `No route ${c.req.method} ${c.req.path}` }));
  app.onError((error, c) => answerError(ports, error, c));
  return app;
}

/** A route handler that notes its pattern for the response observers, then runs. */
function noteRoute(pattern: string, handler: MiddlewareHandler): MiddlewareHandler<HostEnv> {
  return (c, next) => {
    c.env.route = pattern;
    return handler(c, next);
  };
}

/** A body limit answering 413 problem+json; nothing beyond the limit is buffered. */
function limitBody(maxSize: number, plugin?: string): MiddlewareHandler<HostEnv> {
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
function routeTimedOut(ports: HttpPorts, plugin: string, method: string, path: string, ms: number): Response {
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
function answerError(ports: HttpPorts, error: Error, c: Context<HostEnv>): Response {
  const plugin = pluginOfPath(c.req.path);
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
  ports.report({ origin: "route", plugin, error });
  return problem(500, {
    title: "Internal Server Error",
    detail: `${plugin ? `A route of plugin "${plugin}"` : "The request"} failed. The error is logged with id ${id}`,
    errorId: id,
    ...(plugin ? { plugin } : {}),
  });
}
