/**
 * What a route handler must answer: a `Response`. A handler that answers
 * anything else (a string, a plain object) is a bug in its plugin; the host
 * answers 500 and reports this error against the plugin, whether the route
 * runs in-process, in a worker or in its own process.
 *
 * @module
 */

// `Response` as it was when this module loaded: a trusted plugin that replaces the global cannot change the check. Kept
// as the global's own property: in a worker, `Response` is a getter that loads Deno's fetch code (~3 ms of a plugin's
// start) the first time it is read, and a plugin that serves nothing never needs it. The getter still answers the real
// class once the global is replaced; it is bound here, so a later `Function.prototype.call` is not looked up either.
const responseProperty = Object.getOwnPropertyDescriptor(globalThis, "Response")!;
const readResponse = responseProperty.get?.bind(globalThis) as (() => typeof Response) | undefined;
let HostResponse: typeof Response | undefined = readResponse ? undefined : responseProperty.value;

/**
 * Whether a route's answer is a `Response`.
 *
 * @param value what a route handler answered
 * @returns true for a `Response`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isResponse } from "./route_answer.ts";
 * assert.equal(isResponse(new Response("ok")), true);
 * assert.equal(isResponse("ok"), false);
 * ```
 */
export function isResponse(value: unknown): value is Response {
  return value instanceof (HostResponse ??= readResponse!());
}

/**
 * The error for a route handler's answer that is not a `Response`.
 *
 * @param value what the handler answered
 * @returns a `TypeError` saying what came back and how to answer instead
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notAResponse } from "./route_answer.ts";
 * assert.match(notAResponse("hello").message, /answered a string, not a Response/);
 * ```
 */
export function notAResponse(value: unknown): TypeError {
  const what = value === null
    ? "null"
    : typeof value === "object"
    ? `an object (${Object.prototype.toString.call(value)})`
    : `a ${typeof value}`;
  return new TypeError(
    `The route answered ${what}, not a Response: return c.text(...), c.json(...), c.body(...) or a Response`,
  );
}
