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

/**
 * Builds a problem+json response.
 *
 * @param c the Hono context
 * @param status the HTTP status
 * @param problem title, detail and extra members
 * @returns the response
 */
export function problemResponse(c: Context, status: ContentfulStatusCode, problem: Problem): Response {
  return c.body(JSON.stringify({ type: "about:blank", status, ...problem }), status, {
    "content-type": "application/problem+json",
  });
}

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  DEPENDENCY: 409,
  TIMEOUT: 422,
  IMPORT_FAILED: 422,
  INVALID_PLUGIN: 422,
  INVALID_CONFIG: 422,
  SETUP_FAILED: 422,
};

/**
 * Maps a plugboard error to a problem response (unknown errors are rethrown).
 *
 * @param c the Hono context
 * @param error what the host threw
 * @returns the response
 */
export function errorResponse(c: Context, error: unknown): Response {
  if (!(error instanceof PluginError)) throw error;
  const status = STATUS_BY_CODE[error.code] ?? 500;
  return problemResponse(c, status, {
    title: error.code,
    detail: error.message,
    code: error.code,
    plugin: error.plugin,
    ...("fix" in error ? { fix: (error as { fix: string }).fix } : {}),
  });
}
