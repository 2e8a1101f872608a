/**
 * The admin API: list, inspect, load, unload and reload plugins, behind the
 * admin guard. Its routes are `/api/plugins` and `/api/plugins/<name>`, with
 * custom methods as a suffix: `POST /api/plugins/<name>:reload`, `:purge` and `:approve`.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { AdminPort } from "./ports.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import type { HostEnv } from "./auth.ts";
import { errorProblem, problemResponse } from "./problem.ts";

/** `<name>:<action>`: one plugin name, one action. */
const ACTION_RE = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):([a-z]+)$/;

/** The custom methods, `POST /api/plugins/<name>:<action>`. */
const ACTIONS = {
  reload: (host: AdminPort, name: string) => host.reload(name),
  purge: async (host: AdminPort, name: string) => ({ name, purged: await host.purge(name) }),
  approve: (host: AdminPort, name: string) => host.approve(name),
  update: (host: AdminPort, name: string, c: Context) => host.update(name, { apply: c.req.query("apply") === "true" }),
};

/**
 * Builds the admin API.
 *
 * @param host the admin operations
 * @param admin the guard every admin route runs behind
 * @returns a Hono app serving the admin routes
 */
export function createAdminApp(host: AdminPort, admin: MiddlewareHandler<HostEnv>): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
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
      return errorProblem(error);
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
      return errorProblem(error);
    }
  });

  app.post(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, async (c) => {
    const target = c.req.param("name");
    const match = ACTION_RE.exec(target);
    const action = match?.[2] as keyof typeof ACTIONS | undefined;
    if (!match || !action || !(action in ACTIONS)) {
      return problemResponse(c, 404, {
        title: "Not Found",
        detail: `Unknown admin action "${target}". Use POST ${PLUGIN_ROUTE_PREFIX}/<name>:${
          Object.keys(ACTIONS).join(", :")
        }`,
      });
    }
    const name = match[1];
    try {
      return c.json(await ACTIONS[action](host, name, c));
    } catch (error) {
      return errorProblem(error);
    }
  });

  return app;
}
