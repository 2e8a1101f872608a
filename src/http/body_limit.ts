/**
 * A request body limit. A body that declares its length is judged by its
 * `Content-Length`; one sent in chunks is read up to the limit and handed on
 * as a buffer. Unlike `hono/body-limit`, the rebuilt request does not copy
 * the original's `signal`: reading it makes Deno print its "request.signal
 * aborts on successful responses (legacy behavior)" warning at the first
 * chunked request.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { readUpTo } from "../bytes.ts";

/**
 * Refuses bodies larger than `maxSize` bytes with `tooLarge(c)`.
 *
 * @param maxSize the largest body accepted, in bytes
 * @param tooLarge the answer to a body over the limit
 * @returns the middleware
 *
 * @example A chunked body over the limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { limitBodySize } from "./body_limit.ts";
 * const app = new Hono();
 * app.post("/", limitBodySize(4, (c) => c.text("too large", 413)), async (c) => c.text(await c.req.text()));
 * const chunked = (text: string) => new ReadableStream({ start(s) { s.enqueue(new TextEncoder().encode(text)); s.close(); } });
 * const post = (text: string) => app.request("/", { method: "POST", body: chunked(text), duplex: "half" } as RequestInit);
 * assert.equal(await (await post("four")).text(), "four");
 * assert.equal((await post("five!")).status, 413);
 * ```
 */
export function limitBodySize<E extends object>(
  maxSize: number,
  tooLarge: (c: Context<E>) => Response | Promise<Response>,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const length = raw.headers.get("content-length");
    if (length !== null && !raw.headers.has("transfer-encoding")) {
      return Number.parseInt(length, 10) > maxSize ? tooLarge(c) : next();
    }
    const body = await readUpTo(raw.body.getReader(), maxSize);
    if (body === undefined) return tooLarge(c);
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body });
    await next();
  };
}
