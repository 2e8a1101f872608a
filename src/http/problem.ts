/**
 * RFC 9457 problem details: every error the HTTP side returns is an
 * `application/problem+json` body with a title, a status and a detail.
 *
 * @module
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { PluginError } from "../errors.ts";

/** The body of a problem response. */
export interface Problem {
  title: string;
  detail: string;
  /** Extra members, such as `plugin` or `errorId`. */
  [member: string]: unknown;
}

// Captured before any plugin loads, so a plugin that patches JSON cannot change error bodies.
const stringify = JSON.stringify;

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
  return new Response(stringify({ type: "about:blank", status, ...problem }), {
    status,
    headers: { ...headers, "content-type": "application/problem+json" },
  });
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
 * import { PluginError } from "../errors.ts";
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
