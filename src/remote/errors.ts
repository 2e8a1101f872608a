/**
 * The coded error a URL plugin's fetch, check or pin throws. It extends
 * {@linkcode PluginError}, so the loader's `instanceof PluginError` paths and
 * the HTTP problem mapper keep working; its `code` is one of
 * {@linkcode RemoteErrorCode}.
 *
 * @module
 */

import { PluginError, type PluginErrorCode } from "../errors.ts";

/** Stable codes of {@linkcode RemoteError}. */
export type RemoteErrorCode =
  /** The server could not be reached, timed out, answered an error status, or redirected in a loop. */
  | "REMOTE_FETCH_FAILED"
  /** A host (entry, import or redirect hop), a scheme or a specifier that the settings do not allow. */
  | "REMOTE_NOT_ALLOWED"
  /** A module, or the whole graph, over its size or count limit. */
  | "REMOTE_TOO_LARGE"
  /** Not JavaScript or TypeScript: an HTML page, JSON, plain text, or source the lexer cannot read. */
  | "REMOTE_BAD_CONTENT_TYPE"
  /** A module whose hash differs from its pin in plugboard.lock or from the source's `integrity`. */
  | "REMOTE_INTEGRITY_MISMATCH"
  /** `frozen` is on and the plugin, or one of its modules, has no pin. */
  | "REMOTE_NOT_PINNED"
  /** Offline (or the server unreachable) and no complete, intact snapshot on disk. */
  | "REMOTE_SNAPSHOT_MISSING"
  /** plugboard.lock is not valid JSON or not a lock. */
  | "REMOTE_LOCK_INVALID";

/** Each code once: the type makes the list exhaustive. */
const CODES: Record<RemoteErrorCode, true> = {
  REMOTE_FETCH_FAILED: true,
  REMOTE_NOT_ALLOWED: true,
  REMOTE_TOO_LARGE: true,
  REMOTE_BAD_CONTENT_TYPE: true,
  REMOTE_INTEGRITY_MISMATCH: true,
  REMOTE_NOT_PINNED: true,
  REMOTE_SNAPSHOT_MISSING: true,
  REMOTE_LOCK_INVALID: true,
};

/** Every {@linkcode RemoteErrorCode}, for catalogues and tests. */
export const REMOTE_ERROR_CODES: readonly RemoteErrorCode[] = Object.keys(CODES) as RemoteErrorCode[];

/** One module whose content (or redirect target) is not what was pinned. */
export interface ModuleChange {
  /** The module URL (for a redirect, the URL that redirects). */
  url: string;
  /** `changed` content, `added` (not pinned), `removed` (pinned, no longer imported), or a `redirect` that moved. */
  kind: "changed" | "added" | "removed" | "redirect";
  /** The pinned `sha256-<base64>` (for a redirect, its pinned target), or null when there was none. */
  pinned: string | null;
  /** The hash (or redirect target) fetched now, or null when the module is gone. */
  current: string | null;
}

/** Options of {@linkcode RemoteError}. */
export interface RemoteErrorOptions {
  /** The plugin name, or the name hint before the manifest is read. */
  plugin?: string;
  /** The plugin's source URL. */
  source?: string;
  /** The module URL (or redirect hop) concerned. */
  url?: string;
  /** The setting or action that would fix it, alone (as `PermissionError.fix`). */
  fix?: string;
  /** The modules that changed, for `REMOTE_INTEGRITY_MISMATCH`. */
  changes?: ModuleChange[];
  /** True when the server could not be reached at all (network error or timeout): a snapshot may stand in. */
  unreachable?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An error of the URL-plugin subsystem.
 *
 * @example Switch on the code
 * ```ts
 * import assert from "node:assert/strict";
 * import { PluginError } from "../errors.ts";
 * import { RemoteError } from "./errors.ts";
 * const err = new RemoteError("REMOTE_NOT_PINNED", "Cannot load plugin", { url: "http://127.0.0.1:1/mod.js" });
 * assert.ok(err instanceof PluginError);
 * assert.equal(err.code, "REMOTE_NOT_PINNED");
 * assert.deepEqual(err.changes, []);
 * ```
 */
export class RemoteError extends PluginError {
  /** The module URL (or redirect hop) concerned, if one. */
  readonly url: string | undefined;
  /** The setting or action that would fix it, if one. */
  readonly fix: string | undefined;
  /** For `REMOTE_INTEGRITY_MISMATCH`: what changed. Empty otherwise. */
  readonly changes: ModuleChange[];
  /** True when the server could not be reached (network error, timeout). */
  readonly unreachable: boolean;

  /**
   * @param code one of {@linkcode RemoteErrorCode}
   * @param message what, where, and how to fix it
   * @param options plugin, source, url, fix, changes, cause
   */
  constructor(code: RemoteErrorCode, message: string, options: RemoteErrorOptions = {}) {
    // PluginErrorCode does not list the REMOTE_* codes until the catalogue in src/errors.ts adds
    // RemoteErrorCode to its union (see WIRING.md); the value is the remote code either way.
    super(code satisfies PluginErrorCode, message, {
      plugin: options.plugin,
      source: options.source,
      cause: options.cause,
    });
    this.url = options.url;
    this.fix = options.fix;
    this.changes = options.changes ?? [];
    this.unreachable = options.unreachable ?? false;
  }

  /** The remote code, typed. */
  get remoteCode(): RemoteErrorCode {
    return this.code as unknown as RemoteErrorCode;
  }
}

/**
 * The common start of every message: `Cannot load plugin "<name>" from "<url>"`.
 *
 * @param source the plugin's source URL
 * @param plugin the plugin name or hint, if known
 * @returns the prefix
 */
export function cannotLoad(source: string, plugin?: string): string {
  return plugin ? `Cannot load plugin "${plugin}" from "${source}"` : `Cannot load plugin from "${source}"`;
}
