/**
 * RFC 9457 problem details: every error the HTTP side returns is an
 * `application/problem+json` body with a title, a status and a detail.
 *
 * @module
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_CATALOGUE, PluginError, type PluginErrorCode } from "../errors.ts";

/** The body of a problem response. */
export interface Problem {
  title: string;
  detail: string;
  /** Extra members, such as `plugin` or `errorId`. */
  [member: string]: unknown;
}

// Captured before any plugin loads, so a plugin that patches JSON or Response
// cannot change what the host answers.
const stringify = JSON.stringify;
const parse = JSON.parse;
const HostResponse = Response;

/**
 * Builds a problem+json response.
 *
 * @param status the HTTP status
 * @param problem title, detail and extra members
 * @param headers extra headers
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { problem } from "./problem.ts";
 * const res = problem(404, { title: "Not Found", detail: "No route GET /x" });
 * assert.equal(res.headers.get("content-type"), "application/problem+json");
 * assert.equal((await res.json()).status, 404);
 * ```
 */
export function problem(status: number, problem: Problem, headers: Record<string, string> = {}): Response {
  return new HostResponse(stringify({ type: "about:blank", status, ...problem }), {
    status,
    headers: { ...headers, "content-type": "application/problem+json" },
  });
}

/**
 * Builds a problem+json response for a code of the error catalogue: its
 * status, title and hint, with `detail` saying what happened.
 *
 * @param code the catalogue code
 * @param detail what happened and how to fix it
 * @param extra extra members (such as `plugin`)
 * @param headers extra headers
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeProblem } from "./problem.ts";
 * const res = codeProblem("PAYLOAD_TOO_LARGE", "The body is larger than 1048576 bytes");
 * assert.equal(res.status, 413);
 * assert.equal((await res.json()).code, "PAYLOAD_TOO_LARGE");
 * ```
 */
export function codeProblem(
  code: PluginErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const spec = ERROR_CATALOGUE[code];
  return problem(spec.status, { title: spec.title, detail, code, hint: spec.hint, ...extra }, headers);
}

/**
 * A JSON response built with functions captured before any plugin loaded.
 *
 * @param body the value to send
 * @param status the HTTP status
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonResponse } from "./problem.ts";
 * const res = jsonResponse({ ok: true }, 201);
 * assert.equal(res.status, 201);
 * assert.deepEqual(await res.json(), { ok: true });
 * ```
 */
export function jsonResponse(body: unknown, status = 200): Response {
  return new HostResponse(stringify(body), { status, headers: { "content-type": "application/json" } });
}

/**
 * Parses JSON text with the `JSON.parse` captured before any plugin loaded.
 *
 * @param text the text
 * @returns the value
 * @throws {SyntaxError} when the text is not JSON
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJson } from "./problem.ts";
 * assert.deepEqual(parseJson('{"a":1}'), { a: 1 });
 * ```
 */
export function parseJson(text: string): unknown {
  return parse(text);
}

/**
 * Builds a problem+json response in a Hono handler.
 *
 * @param _c the Hono context
 * @param status the HTTP status
 * @param body title, detail and extra members
 * @param headers extra headers
 * @returns the response
 */
export function problemResponse(
  _c: Context,
  status: ContentfulStatusCode,
  body: Problem,
  headers?: Record<string, string>,
): Response {
  return problem(status, body, headers);
}

/**
 * Maps a plugboard error to a problem response, with the status and title of
 * its code in the error catalogue (anything else is rethrown).
 *
 * @param error what the host threw
 * @returns the response
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERROR_CATALOGUE, PluginError, type PluginErrorCode } from "../errors.ts";
 * import { errorProblem } from "./problem.ts";
 * const res = errorProblem(new PluginError("NOT_FOUND", 'Cannot find plugin "x"', { plugin: "x" }));
 * assert.equal(res.status, 404);
 * assert.equal((await res.json()).code, "NOT_FOUND");
 * ```
 */
export function errorProblem(error: unknown): Response {
  if (!(error instanceof PluginError)) throw error;
  return problem(error.status, {
    title: error.code,
    detail: error.message,
    code: error.code,
    plugin: error.plugin,
    hint: error.hint,
    ...("fix" in error && error.fix !== undefined ? { fix: (error as { fix: string }).fix } : {}),
    ...changesOf(error),
  });
}

/**
 * {@linkcode errorProblem} in a Hono handler.
 *
 * @param _c the Hono context
 * @param error what the host threw
 * @returns the response
 */
export function errorResponse(_c: Context, error: unknown): Response {
  return errorProblem(error);
}

/** The module changes a remote error carries, as a problem member. */
function changesOf(error: unknown): { changes?: unknown[] } {
  const changes = (error as { changes?: unknown }).changes;
  return Array.isArray(changes) && changes.length ? { changes } : {};
}
