/**
 * The host's HTTP side. A request is first sorted by path: the host's own
 * endpoints (`/health` and the admin API: `/api/plugins`,
 * `/api/plugins/<name>`, `/api/plugins/<name>:action`) go to the host app,
 * where no plugin code runs; everything else goes to the plugin app
 * (`plugin_app.ts`), rebuilt when plugins change.
 *
 * Requests to plugin routes are the hot path: the path is found once (the
 * plugin router is handed it rather than reading the URL again); a GET for
 * an isolated plugin's route that no host-wide middleware sees goes straight
 * to its worker (`direct_routes.ts`); and a request observed by the host
 * alone (access log, metrics) costs two reads of the wall clock, a bindings
 * object and one call with its fields, no record.
 *
 * @module
 */

import { Hono } from "hono";
import { createAdminApp } from "./admin.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import { adminGuard, type HostEnv } from "./auth.ts";
import type { HttpPorts } from "./ports.ts";
import type { ObserverEntry, ResponseRecord } from "../routes.ts";
import { codeProblem, jsonResponse } from "./problem.ts";
import { DEFAULT_BODY_LIMIT, DEFAULT_ROUTE_TIMEOUT } from "../options.ts";
import { Deadlines } from "./deadlines.ts";
import { mountObservability } from "./dashboard/mount.ts";
import { directFetchOf } from "./direct_routes.ts";
import { type SortedUrl, sortUrl } from "./sort_url.ts";
import { answerNotFound, type RouteHandler, runSingleRoute } from "./single_route.ts";
import { errorText } from "../error_text.ts";
import { isResponse, notAResponse } from "./route_answer.ts";
import {
  answerError,
  buildPluginApp,
  limitBody,
  noRoute,
  pluginOfPath,
  routeTimedOut,
  type SortedPath,
} from "./plugin_app.ts";

/** The MCP endpoint, as the HTTP side reaches it (`src/mcp/hub.ts`). */
export interface McpHttpPort {
  fetch(request: Request, client?: string): Promise<Response>;
}

/** The host's HTTP side: a fetch handler. */
export interface HttpApp {
  fetch(request: Request, env: HostEnv["Bindings"]): Response | Promise<Response>;
}

// Response observers are timed with the wall clock in whole milliseconds, as Hono's logger is: under wrk here two
// `performance.now()` reads per request cost the shipped set ~7% of its throughput, two `Date.now()` reads ~1%.
const wallClock = Date.now;
const hostSetTimeout = setTimeout;
const monotonic = performance.now.bind(performance);

/** How long the plugin routes go unchanged before they are built again in the background, in ms. */
const REBUILD_QUIET_MS = 20;
/** The longest a change waits for that background build while changes keep coming, in ms. */
const REBUILD_MAX_WAIT_MS = 250;

/** The longest request URL answered, in characters; longer ones get 414. */
export const MAX_URL_LENGTH = 8192;

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
  // What sorting the request's URL found (`sort_url.ts`), one record for every request.
  const found: SortedUrl = { path: "", host: false, encoded: false };
  // Two builds of the same routes: requests without a body skip the body guards entirely, so a plugin route with
  // no host-wide middleware takes Hono's single-handler path, as in a bare Hono app.
  let plain: Hono<HostEnv> | undefined;
  let guarded: Hono<HostEnv> | undefined;
  // Whether a GET may skip the plain build's Hono pass for an isolated plugin's route (see `direct_routes.ts`): only
  // when some route forwards to a worker and no host-wide middleware would see the request.
  let direct = false;
  let builtFor = -1;
  // Rebuild after plugins change, not on the next request: building the router and compiling Hono's matcher takes
  // milliseconds that no request should wait for. Once per burst of changes: when none came for REBUILD_QUIET_MS, or
  // REBUILD_MAX_WAIT_MS after the first (isolated plugins starting together activate one by one over seconds, and a
  // build per activation cost a hundred plugins ~O(n²) of the host's time). A request that comes first builds it itself.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let firstChange = 0;
  let lastChange = 0;
  const rebuild = () => {
    const version = ports.routes.version;
    if (builtFor === version) return;
    plain = buildPluginApp(ports, undefined, sorted);
    guarded = buildPluginApp(ports, limits, sorted);
    direct = ports.routes.middleware.length === 0;
    forwards = [...ports.routes.entries()].some(([, router]) =>
      router.routes.some((r) => directFetchOf(r.handler) !== undefined)
    );
    plain.router.match("GET", "/");
    guarded.router.match("GET", "/");
    builtFor = version;
  };
  const settled = () => {
    const now = monotonic();
    const quietFor = now - lastChange;
    if (quietFor < REBUILD_QUIET_MS && now - firstChange < REBUILD_MAX_WAIT_MS) {
      Deno.unrefTimer(timer = hostSetTimeout(settled, REBUILD_QUIET_MS - quietFor));
      return;
    }
    timer = undefined;
    rebuild();
  };
  ports.routes.onChange(() => {
    lastChange = monotonic();
    if (timer !== undefined) return;
    firstChange = lastChange;
    Deno.unrefTimer(timer = hostSetTimeout(settled, REBUILD_QUIET_MS));
  });
  // The host's own observer (access log, metrics) goes last, after the plugins' (`ctx.onResponse`), told field by
  // field: a request observed by the host alone builds no record.
  const answered = ports.observability?.answered;
  // Shared by every watched request (its data comes as the context): a request allocates no closures for them.
  const late = (r: Watched) => routeTimedOut(ports, r.plugin!, r.method, r.path, r.ms);
  /** Tells the plugins' observers, then the host's own, about one answered request. */
  const tell = (
    observers: readonly ObserverEntry[],
    method: string,
    path: string,
    route: string | undefined,
    status: number,
    started: number,
  ) => {
    const at = wallClock();
    const ms = at > started ? at - started : 0;
    if (observers.length !== 0) tellObservers(ports, observers, { method, path, route, status, ms, at });
    answered?.(method, path, route, status, ms, at);
  };
  const observe = (res: Response, r: Watched) =>
    tell(r.observers, r.method, r.path, r.bindings!.route, res.status, r.started);
  // Whether some route forwards to a worker (only then is a matched handler looked up as a forward).
  let forwards = false;
  /** Answers a failure of a route answered directly, as the plugin router's error handler does. */
  const failed = (error: unknown, path: string) =>
    answerError(ports, error instanceof Error ? error : new Error(errorText(error)), path);
  // A rejection Hono's error handler did not answer (it takes Errors only), or an answer that is not a Response:
  // answered as a failure of the route.
  const failedWatched = (error: unknown, r: Watched) => failed(error, r.path);
  /**
   * Answers a bodiless GET that one route alone matches, without the plain
   * build's Hono pass: an isolated plugin's route from its worker, an
   * in-process plugin's route by calling its handler as the router would;
   * and one that no route matches with the router's 404. Undefined when the
   * request takes Hono's path. An isolated route's pattern goes to
   * `bindings.route` when the request is observed (an in-process route's
   * handler notes it itself).
   */
  const answerDirect = (
    request: Request,
    path: string,
    env: HostEnv["Bindings"],
    observed: boolean,
  ): Response | Promise<Response> | undefined => {
    const matchResult = plain!.router.match("GET", path);
    const matched = matchResult[0];
    if (matched.length === 0) return answerNotFound(request, path, matchResult, env, noRoute);
    if (matched.length !== 1) return undefined;
    const [handler, route] = matched[0][0] as unknown as [RouteHandler, { path: string }];
    if (forwards) {
      const forward = directFetchOf(handler);
      if (forward !== undefined) {
        const response = forward(request, (error) => failed(error, path));
        if (response !== undefined && observed) env.route = route.path;
        return response;
      }
    }
    return runSingleRoute(handler, request, path, matchResult, env, failed, noRoute);
  };
  return {
    fetch(request, env) {
      const url = request.url;
      if (url.length > MAX_URL_LENGTH) {
        return codeProblem(
          "URI_TOO_LONG",
          `The request URL has ${url.length} characters; at most ${MAX_URL_LENGTH} are answered`,
        );
      }
      const { path, host, encoded } = sortUrl(url, found);
      if (path === "/mcp" && ports.mcp) {
        const addr = env?.info?.remoteAddr;
        return ports.mcp.fetch(request, addr && "hostname" in addr ? addr.hostname : undefined);
      }
      if (host) return hostApp.fetch(request, env);
      if (builtFor !== ports.routes.version) rebuild();
      // The JSON guard for anything but a GET or HEAD: a POST without a body read as JSON is a 400. A GET or HEAD has
      // no body in Deno (`Deno.serve` drops one a client sends; `new Request` refuses one), so its body is not read.
      const method = request.method;
      const app = method === "GET" || method === "HEAD" ? plain! : guarded!;
      const observers = ports.routes.observers;
      const observed = answered !== undefined || observers.length !== 0;
      // Observed: the route handlers of this build note their pattern in the request's own bindings.
      const started = observed ? wallClock() : 0;
      const bindings: HostEnv["Bindings"] = observed ? { info: env?.info, route: undefined } : env;
      // Hono decodes a path with a percent sign: that one it finds itself.
      const plainPath = !encoded;
      let response = direct && app === plain && method === "GET" && plainPath
        ? answerDirect(request, path, bindings, observed)
        : undefined;
      if (response === undefined) {
        sorted.request = plainPath ? request : undefined;
        sorted.path = path;
        try {
          response = app.fetch(request, bindings);
        } catch (error) {
          // Hono's error handler takes Errors only: a route that throws anything else is answered here.
          response = failed(error, path);
        }
        sorted.request = undefined;
      }
      if (!(response instanceof Promise)) {
        if (!isResponse(response)) response = failed(notAResponse(response), path);
        if (observed) tell(observers, method, path, bindings.route, response.status, started);
        return response;
      }
      const plugin = pluginOfPath(path);
      if (!observed) {
        if (plugin === undefined) return response;
        const ms = limits(plugin).routeTimeout;
        const watched: Watched = { plugin, method, path, ms, started: 0, bindings: undefined, observers };
        return deadlines.watch(response, ms, late, watched, undefined, failedWatched);
      }
      const ms = plugin === undefined ? 0 : limits(plugin).routeTimeout;
      const watched: Watched = { plugin, method, path, ms, started, bindings, observers };
      if (plugin !== undefined) return deadlines.watch(response, ms, late, watched, observe, failedWatched);
      return response.then((res) => (observe(res, watched), res));
    },
  };
}

/** A plugin request whose answer is still to come: what its deadline and its observers need. */
interface Watched {
  plugin: string | undefined;
  method: string;
  path: string;
  /** Its deadline, in ms. */
  ms: number;
  /** When it came, by the wall clock (observed requests only). */
  started: number;
  /** Its bindings, where its route pattern is noted (observed requests only). */
  bindings: HostEnv["Bindings"] | undefined;
  observers: readonly ObserverEntry[];
}

/** Tells every plugin's response observer about one answered request; an observer's failure is its plugin's. */
function tellObservers(ports: HttpPorts, observers: readonly ObserverEntry[], record: ResponseRecord): void {
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
  app.notFound(noRoute);
  app.onError((error, c) => answerError(ports, error, c.req.path));
  return app;
}
