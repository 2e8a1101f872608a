/**
 * Running one route handler as Hono's router runs a route matched alone: a
 * context for the request, the handler called with a `next` that answers
 * 404, a thrown or rejected error handed to the error handler, and an
 * answer of nothing taken as 404 (unless the handler set `c.res`). The host
 * calls it for a bodiless `GET` that one route of an in-process plugin
 * answers and no host-wide middleware sees (`app.ts`), which skips the
 * plugin router's own pass: its `fetch` wrapper, its reading of the path,
 * and matching the path a second time.
 *
 * @module
 */

import { Context, type Hono } from "hono";
import type { HostEnv } from "./auth.ts";

/** A route handler as the router holds it. */
export type RouteHandler = (
  c: Context<HostEnv>,
  next: () => Promise<void>,
) => Response | void | Promise<Response | void>;

/** What the router matched for a path: the handlers with their routes, and the parameters (Hono's `matchResult`). */
export type MatchResult = ReturnType<Hono<HostEnv>["router"]["match"]>;

/** Answers a request no route answered (the plugin router's 404). */
export type NotFound = (c: Context<HostEnv>) => Response | Promise<Response>;

/**
 * Runs a route matched alone.
 *
 * @param handler the route's handler
 * @param request the request
 * @param path its path, as the router matched it
 * @param matchResult what the router matched (for the handler's `c.req.param()`)
 * @param env the request's bindings
 * @param failed answers a failure of the handler at a path (the router's error handler)
 * @param notFound answers when the handler answers nothing
 * @returns the handler's response, or the promise of it
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { runSingleRoute, type RouteHandler } from "./single_route.ts";
 * const app = new Hono();
 * app.get("/hello/:who", (c) => c.text(`hello ${c.req.param("who")}`));
 * const matched = app.router.match("GET", "/hello/ada");
 * const handler = matched[0][0][0][0] as unknown as RouteHandler;
 * const failed = () => new Response("failed", { status: 500 });
 * const notFound = () => new Response("none", { status: 404 });
 * const res = runSingleRoute(handler, new Request("http://x/hello/ada"), "/hello/ada", matched, {}, failed, notFound);
 * assert.equal(await (await res).text(), "hello ada");
 * ```
 */
export function runSingleRoute(
  handler: RouteHandler,
  request: Request,
  path: string,
  matchResult: MatchResult,
  env: HostEnv["Bindings"],
  failed: (error: unknown, path: string) => Response,
  notFound: NotFound,
): Response | Promise<Response> {
  const c = new Context<HostEnv>(request, { path, matchResult, env, notFoundHandler: notFound });
  let answer: Response | void | Promise<Response | void>;
  try {
    answer = handler(c, async () => {
      c.res = await notFound(c);
    });
  } catch (error) {
    return failed(error, path);
  }
  if (answer instanceof Promise) {
    return answer.then((res) => res || (c.finalized ? c.res : notFound(c))).catch((error) => failed(error, path));
  }
  return answer ?? notFound(c);
}

/**
 * Answers a request no route matched, as the router does: its not-found
 * handler, with a context for the request.
 *
 * @param request the request
 * @param path its path
 * @param matchResult what the router matched (nothing)
 * @param env the request's bindings
 * @param notFound the router's not-found handler
 * @returns its answer
 */
export function answerNotFound(
  request: Request,
  path: string,
  matchResult: MatchResult,
  env: HostEnv["Bindings"],
  notFound: NotFound,
): Response | Promise<Response> {
  return notFound(new Context<HostEnv>(request, { path, matchResult, env, notFoundHandler: notFound }));
}
