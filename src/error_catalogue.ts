/**
 * Every error code plugboard uses, with its HTTP status, a title and the fix
 * that usually applies: messages are built from these, never parsed back.
 *
 * @module
 */

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** The HTTP status the admin API answers with. */
  readonly status: number;
  /** A short title, for problem+json. */
  readonly title: string;
  /** What usually fixes it. */
  readonly hint: string;
}

/**
 * Every error code, with its HTTP status, title and fix hint.
 *
 * @example Look up the status of a code
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERROR_CATALOGUE } from "./error_catalogue.ts";
 * assert.equal(ERROR_CATALOGUE.SERVICE_NOT_FOUND.status, 503);
 * ```
 */
export const ERROR_CATALOGUE = {
  PERMISSION_DENIED: {
    status: 403,
    title: "Permission denied",
    hint: "Grant the Deno flag or host option the message names",
  },
  IMPORT_FAILED: {
    status: 422,
    title: "Import failed",
    hint: "Fix the module at the location shown, then reload",
  },
  INVALID_PLUGIN: {
    status: 422,
    title: "Invalid plugin",
    hint: "Export default definePlugin({ name, version, setup }) with a valid manifest",
  },
  INVALID_CONFIG: {
    status: 422,
    title: "Invalid config",
    hint: "Fix the config field named, in the file named",
  },
  DEPENDENCY: {
    status: 409,
    title: "Dependency problem",
    hint: "Load the dependency named, in a version that satisfies the range",
  },
  TIMEOUT: {
    status: 422,
    title: "Timed out",
    hint: "Make sure setup() settles, or raise the timeout named",
  },
  SETUP_FAILED: {
    status: 422,
    title: "Setup failed",
    hint: "Fix the error thrown by the plugin's setup()",
  },
  CONFLICT: {
    status: 409,
    title: "Conflict",
    hint: "Rename one of the two, or act on the existing one",
  },
  NOT_FOUND: {
    status: 404,
    title: "Not found",
    hint: "Check the name; GET /api/plugins lists the known plugins",
  },
  SERVICE_NOT_FOUND: {
    status: 503,
    title: "Service unavailable",
    hint: 'Load the plugin that provides it, or declare it in "dependencies"',
  },
  SERVICE_VALUE: {
    status: 500,
    title: "Value cannot cross",
    hint: "Pass and return plain data (objects, arrays, strings, numbers, Dates, Maps, Sets, typed arrays): a " +
      "function or a class instance cannot reach a plugin in another isolate",
  },
  RATE_LIMITED: {
    status: 429,
    title: "Over its rate",
    hint: "The plugin sent more per second than its budget; the excess was dropped. Emit or log less often",
  },
  DISPOSE_FAILED: {
    status: 500,
    title: "Unload step failed",
    hint: "Fix the plugin's unload/onDispose callback; the other steps still ran",
  },
  PLUGIN_FAILED: {
    status: 500,
    title: "Plugin code failed",
    hint: "Fix the plugin's code at the location shown; the host keeps serving",
  },
  PLUGIN_UNAVAILABLE: {
    status: 503,
    title: "Plugin unavailable",
    hint: "The plugin's worker stopped (crashed, hung or over its memory budget) and is being restarted; retry shortly",
  },
  STORAGE_BUSY: {
    status: 503,
    title: "Storage busy",
    hint: "Another writer holds the plugin's database; retry after the time given",
  },
  UNLOADED: {
    status: 409,
    title: "Plugin unloaded",
    hint: "Stop using the context of an unloaded plugin: clear timers and listeners in onDispose",
  },
  INVALID_SETTINGS: {
    status: 400,
    title: "Invalid settings",
    hint: "Fix the flag or plugboard.json field named; run with --help to see the options",
  },
  REMOTE_FETCH_FAILED: {
    status: 502,
    title: "Remote fetch failed",
    hint: "Check the URL and that its server answers; a pinned plugin can start offline from its snapshot",
  },
  REMOTE_NOT_ALLOWED: {
    status: 403,
    title: "Remote host not allowed",
    hint: "Add the host named to allowImport if you trust it",
  },
  REMOTE_TOO_LARGE: {
    status: 422,
    title: "Remote module too large",
    hint: "Shrink the module or graph, or raise the remote limits",
  },
  REMOTE_BAD_CONTENT_TYPE: {
    status: 422,
    title: "Not a module",
    hint: "Serve JavaScript or TypeScript with its content type (not an HTML page)",
  },
  REMOTE_INTEGRITY_MISMATCH: {
    status: 409,
    title: "Remote module changed",
    hint: "Review the change, then POST /api/plugins/<name>:update?apply=true to re-pin it",
  },
  REMOTE_NOT_PINNED: {
    status: 403,
    title: "Not pinned",
    hint: "Pin it in plugboard.lock where the lock is not frozen, then deploy the lock",
  },
  REMOTE_SNAPSHOT_MISSING: {
    status: 503,
    title: "Snapshot missing",
    hint: "Start once with the plugin's server reachable, so its snapshot is written",
  },
  REMOTE_LOCK_INVALID: {
    status: 500,
    title: "Invalid plugboard.lock",
    hint: "Fix or delete plugboard.lock (it is rewritten on the next load)",
  },
  BAD_REQUEST: {
    status: 400,
    title: "Bad request",
    hint: "Send the body or parameter the message describes",
  },
  UNAUTHORIZED: {
    status: 401,
    title: "Unauthorized",
    hint:
      "Send the admin key (PLUGBOARD_API_KEY, or the token in .plugboard/admin-token) as X-API-Key or a Bearer token",
  },
  FORBIDDEN: {
    status: 403,
    title: "Forbidden",
    hint: "Without PLUGBOARD_API_KEY the admin API answers this machine only (loopback, with a loopback Host and " +
      "the server's own Origin); set PLUGBOARD_API_KEY to manage plugins from elsewhere",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: "Method not allowed",
    hint: "Use one of the methods in the Allow header",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: "Payload too large",
    hint: 'Send a smaller body, or raise "bodyLimit" (host-wide or under "limits.<plugin>")',
  },
  URI_TOO_LONG: {
    status: 414,
    title: "URI too long",
    hint: "Send long data in the body, not the URL",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: "Unsupported media type",
    hint: "Send the body as JSON with Content-Type: application/json",
  },
  ROUTE_TIMEOUT: {
    status: 504,
    title: "Route timed out",
    hint:
      'Make the route answer sooner (stream long work), or raise "routeTimeout" (host-wide or under "limits.<plugin>")',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Stable machine-readable codes carried by every {@linkcode PluginError}. */
export type PluginErrorCode = keyof typeof ERROR_CATALOGUE;
