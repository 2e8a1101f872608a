/**
 * The admin API: list, inspect, load, unload and reload plugins, behind the
 * admin guard. Its routes are `/api/plugins` and `/api/plugins/<name>`, with
 * custom methods as a suffix: `POST /api/plugins/<name>:reload`, `:purge` and `:approve`;
 * and `GET /api/events`, the host's events as Server-Sent Events.
 *
 * @module
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { AdminPort } from "./ports.ts";
import { PLUGIN_ROUTE_PREFIX } from "../routes.ts";
import type { HostEnv } from "./auth.ts";
import type { Observability } from "../metrics/observability.ts";
import type { PluginInfo } from "../plugin_info.ts";
import { codeProblem, errorProblem, jsonResponse, parseJson, problemResponse } from "./problem.ts";

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
 * @param observability adds every registration to a plugin's info, and streams events
 * @returns a Hono app serving the admin routes
 */
export function createAdminApp(
  host: AdminPort,
  admin: MiddlewareHandler<HostEnv>,
  observability?: Observability,
): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  const describe = (info: PluginInfo) => observability ? observability.describe(info) : Promise.resolve(info);
  app.get(
    PLUGIN_ROUTE_PREFIX,
    admin,
    async () => jsonResponse({ plugins: await Promise.all(host.list().map(describe)) }),
  );

  app.get("/api/events", admin, (c) => {
    if (!observability) return problemResponse(c, 404, { title: "Not Found", detail: "No event streams here" });
    const body = observability.streams.open({ payloads: c.req.query("include") === "payload" });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  });
  app.all("/api/events", (c) => notAllowed(c.req.method, c.req.path, "GET"));

  app.post(PLUGIN_ROUTE_PREFIX, admin, async (c) => {
    const type = mediaType(c.req.header("content-type"));
    if (type !== "application/json") {
      return codeProblem(
        "UNSUPPORTED_MEDIA_TYPE",
        `The body must be sent as application/json: current Content-Type is ${
          type ? `"${c.req.header("content-type")}"` : "missing"
        }`,
      );
    }
    let body: unknown;
    try {
      body = parseJson(await c.req.text());
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
    c.set("audit", `(source ${JSON.stringify(source)})`);
    try {
      const info = await host.load(source);
      c.set("audit", `(source ${JSON.stringify(source)}, plugin "${info.name}")`);
      return jsonResponse(info, 201);
    } catch (error) {
      return errorProblem(error);
    }
  });

  app.get(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, async (c) => {
    const info = host.get(c.req.param("name"));
    if (!info) {
      return problemResponse(c, 404, {
        title: "Not Found",
        detail: `No plugin "${c.req.param("name")}". GET ${PLUGIN_ROUTE_PREFIX} lists them`,
      });
    }
    return jsonResponse(await describe(info));
  });

  app.delete(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, async (c) => {
    const cascade = c.req.query("cascade") === "true";
    try {
      return jsonResponse(await host.unload(c.req.param("name"), { cascade }));
    } catch (error) {
      return errorProblem(error);
    }
  });

  app.post(`${PLUGIN_ROUTE_PREFIX}/:name`, admin, async (c) => {
    const target = c.req.param("name");
    const type = mediaType(c.req.header("content-type"));
    if (type !== undefined && type !== "application/json") {
      return codeProblem(
        "UNSUPPORTED_MEDIA_TYPE",
        `Admin actions take no body, or a JSON one: current Content-Type is "${c.req.header("content-type")}"`,
      );
    }
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
      return jsonResponse(await ACTIONS[action](host, name, c));
    } catch (error) {
      return errorProblem(error);
    }
  });

  // Any other method: 405 with Allow, before the guard (it says nothing about plugins).
  app.all(PLUGIN_ROUTE_PREFIX, (c) => notAllowed(c.req.method, c.req.path, "GET, POST"));
  app.all(`${PLUGIN_ROUTE_PREFIX}/:name`, (c) => {
    const action = c.req.param("name").includes(":");
    return notAllowed(c.req.method, c.req.path, action ? "POST" : "GET, DELETE");
  });

  return app;
}

function notAllowed(method: string, path: string, allow: string): Response {
  return codeProblem("METHOD_NOT_ALLOWED", `${path} does not answer ${method}: use ${allow}`, {}, { allow });
}

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(";", 1)[0].trim().toLowerCase();
}
