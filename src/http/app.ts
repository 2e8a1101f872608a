/**
 * The host's HTTP side as one Hono app: `/health`, the admin API under
 * `/api/plugins`, and each plugin's router under `/api/plugins/<name>/`.
 *
 * Admin actions use a `:action` suffix on the plugin name
 * (`POST /api/plugins/hello:reload`): plugin names cannot hold a colon and
 * plugin routes always start after `/api/plugins/<name>/`, so the two can
 * never collide.
 *
 * @module
 */

import { Hono, type MiddlewareHandler } from "hono";
import type { Host } from "../host.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import { adminGuard, type HostEnv } from "./auth.ts";
import { errorResponse, problemResponse } from "./problem.ts";

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

/**
 * Builds the host's app.
 *
 * @param host the plugin host
 * @param options the admin key
 * @returns the Hono app
 */
export function createHttpApp(host: Host, options: HttpOptions): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  const admin = adminGuard(options.apiKey);
  app.use(pluginMiddleware(host));

  app.get("/health", (c) => {
    const counts: Record<string, number> = {};
    for (const p of host.list()) counts[p.state] = (counts[p.state] ?? 0) + 1;
    return c.json({ status: "ok", plugins: counts });
  });

  app.get(PLUGIN_ROUTE_PREFIX, admin, (c) => c.json({ plugins: host.list() }));

  app.post(PLUGIN_ROUTE_PREFIX, admin, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problemResponse(c, 400, {
        title: "Bad Request",
        detail: 'The body must be JSON such as {"source": "./plugins/hello/mod.ts"}',
      });
    }
    const source = (body as { source?: unknown })?.source;
    if (typeof source !== "string" || source.length === 0) {
      return problemResponse(c, 400, {
        title: "Bad Request",
        detail: `Field "source" must be a path or URL string: current value is ${JSON.stringify(source)}`,
      });
    }
    try {
      return c.json(await host.load(source), 201);
    } catch (error) {
      return errorResponse(c, error);
    }
  });

  app.get(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, (c) => {
    const info = host.get(c.req.param("name"));
    if (!info) {
      return problemResponse(c, 404, {
        title: "Not Found",
        detail: `No plugin "${c.req.param("name")}". GET ${PLUGIN_ROUTE_PREFIX} lists them`,
      });
    }
    return c.json(info);
  });

  app.delete(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, async (c) => {
    const cascade = c.req.query("cascade") === "true";
    try {
      return c.json(await host.unload(c.req.param("name"), { cascade }));
    } catch (error) {
      return errorResponse(c, error);
    }
  });

  app.post(`${PLUGIN_ROUTE_PREFIX}/:target`, admin, async (c) => {
    const target = c.req.param("target");
    const [name, action] = target.split(":");
    if (action !== "reload") {
      return problemResponse(c, 404, {
        title: "Not Found",
        detail: `Unknown admin action "${target}". Use POST ${PLUGIN_ROUTE_PREFIX}/<name>:reload`,
      });
    }
    try {
      return c.json(await host.reload(name));
    } catch (error) {
      return errorResponse(c, error);
    }
  });

  app.all(`${PLUGIN_ROUTE_PREFIX}/:name/*`, (c) => {
    const name = c.req.param("name");
    const router = host.routes.get(name);
    if (!router) {
      return problemResponse(c, 404, {
        title: "Not Found",
        detail: `No active plugin "${name}" serves routes`,
      });
    }
    return router.fetch(c.req.raw, c.env);
  });

  app.notFound((c) =>
    problemResponse(c, 404, {
      title: "Not Found",
      detail: `No route ${c.req.method} ${new URL(c.req.url).pathname}`,
    })
  );
  app.onError((error, c) => {
    const id = crypto.randomUUID();
    host.reportError("route", undefined, error);
    return problemResponse(c, 500, {
      title: "Internal Server Error",
      detail: `The request failed. The error is logged with id ${id}`,
      errorId: id,
    });
  });
  return app;
}
