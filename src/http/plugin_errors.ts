/**
 * How the errors of plugin authors become problem+json: Hono's
 * `HTTPException` keeps its status and message, and malformed JSON read
 * through `c.req.json()` is the client's mistake (400), not the route's (500).
 * Used by the host's plugin app; an isolated plugin's worker can use the same
 * two pieces so that both modes answer alike.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

/** The `name` of the error {@linkcode guardJsonBody} throws (it survives the trip from a worker). */
export const MALFORMED_JSON = "MalformedJsonError";

/** The reason phrases of the error statuses HTTP registers (RFC 9110 and its companions): a problem's title. */
const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

/**
 * The response for an `HTTPException` (from any copy of hono), if `error` is
 * one: the response it was built with, or else a problem with its status and
 * message.
 *
 * @param error what a route or middleware threw
 * @param plugin the plugin it belongs to, named in the problem
 * @returns the response, or undefined when `error` is no `HTTPException`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HTTPException } from "hono/http-exception";
 * import { httpExceptionResponse } from "./plugin_errors.ts";
 * const res = httpExceptionResponse(new HTTPException(418, { message: "I am a teapot" }), "kettle")!;
 * assert.equal(res.status, 418);
 * assert.equal(res.headers.get("content-type"), "application/problem+json");
 * assert.deepEqual(await res.json().then((p) => [p.title, p.detail]), ["Client Error", "I am a teapot"]);
 * assert.equal(httpExceptionResponse(new Error("x"), "kettle"), undefined);
 * ```
 */
export function httpExceptionResponse(error: unknown, plugin: string | undefined): Response | undefined {
  const e = error as { getResponse?: () => Response; res?: Response; status?: unknown; message?: string } | null;
  if (typeof e?.getResponse !== "function") return undefined;
  if (e.res) return e.getResponse();
  const status = typeof e.status === "number" && e.status >= 400 && e.status <= 599 ? e.status : 500;
  // A status HTTP does not register (418, 499, ...) gets its class's name, not another status's phrase.
  const title = STATUS_TITLES[status] ?? (status < 500 ? "Client Error" : "Server Error");
  return problem(status, { title, detail: e.message || title, ...(plugin ? { plugin } : {}) });
}

/**
 * Middleware that makes `c.req.json()` throw an error named
 * {@linkcode MALFORMED_JSON} (code `BAD_REQUEST`) when the body is not JSON,
 * so the host answers 400 instead of reporting the route as failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { guardJsonBody, MALFORMED_JSON } from "./plugin_errors.ts";
 * const app = new Hono();
 * app.use(guardJsonBody);
 * app.post("/", async (c) => c.json(await c.req.json()));
 * app.onError((e, c) => c.text(e.name, 400));
 * const res = await app.request("/", { method: "POST", body: "{oops" });
 * assert.equal(await res.text(), MALFORMED_JSON);
 * ```
 */
export const guardJsonBody: MiddlewareHandler = async (c, next) => {
  const req = c.req;
  const json = req.json.bind(req);
  req.json = (() =>
    json().catch((cause: unknown) => {
      const error = new Error(`The request body is not valid JSON: ${(cause as Error)?.message ?? cause}`, { cause });
      error.name = MALFORMED_JSON;
      Object.assign(error, { code: "BAD_REQUEST" });
      throw error;
    })) as typeof req.json;
  await next();
};
