/**
 * Routes the host may answer without its plugin router: an isolated plugin's
 * route is forwarded to its worker, whose own router matches the request
 * again, so for a `GET` that no host-wide middleware sees, the host's Hono
 * pass (a context, its promises, the forwarding handler's) does nothing the
 * worker does not do. The worker bridge registers each forwarding handler
 * here; the HTTP app looks the matched handler up and calls this instead.
 *
 * @module
 */

/**
 * Answers a request from the plugin's worker, or returns undefined when the
 * handler's router is no longer the plugin's live one (the request then takes
 * the router's path, which answers for the live version or with 404). A
 * failure is answered by `failed`, as the router's error handler would.
 */
export type DirectFetch = (request: Request, failed: (error: Error) => Response) => Promise<Response> | undefined;

const direct = new WeakMap<object, DirectFetch>();

/**
 * Marks a route handler as a forward to a worker.
 *
 * @param handler the route handler registered with the router
 * @param fetch the same forward, without a Hono context
 * @returns the handler
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { directFetchOf, markDirect } from "./direct_routes.ts";
 * const handler = markDirect(() => new Response("via Hono"), () => Promise.resolve(new Response("direct")));
 * const failed = () => new Response(null, { status: 500 });
 * assert.equal(await directFetchOf(handler)!(new Request("http://x/"), failed)!.then((r) => r.text()), "direct");
 * assert.equal(directFetchOf(() => {}), undefined);
 * ```
 */
export function markDirect<H extends object>(handler: H, fetch: DirectFetch): H {
  direct.set(handler, fetch);
  return handler;
}

/**
 * The direct forward of a route handler, if it has one.
 *
 * @param handler a route handler
 * @returns its direct forward, or undefined
 */
export function directFetchOf(handler: unknown): DirectFetch | undefined {
  return typeof handler === "function" ? direct.get(handler) : undefined;
}
