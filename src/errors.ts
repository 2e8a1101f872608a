/**
 * The few error classes plugboard throws. Each carries a stable `code`, the
 * name of the plugin it concerns (when there is one) and the original `cause`.
 *
 * @module
 */

/** Stable machine-readable codes carried by every {@linkcode PluginError}. */
export type PluginErrorCode =
  | "PERMISSION_DENIED"
  | "IMPORT_FAILED"
  | "INVALID_PLUGIN"
  | "INVALID_CONFIG"
  | "DEPENDENCY"
  | "TIMEOUT"
  | "SETUP_FAILED"
  | "CONFLICT"
  | "NOT_FOUND"
  | "SERVICE_NOT_FOUND"
  | "DISPOSE_FAILED";

/** Options shared by the plugboard error classes. */
export interface PluginErrorOptions {
  /** The plugin the error concerns, when known. */
  plugin?: string;
  /** Where the plugin came from (path or URL), when known. */
  source?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base class of every error plugboard throws on purpose.
 *
 * @example Inspect a failure
 * ```ts
 * import { PluginError } from "./errors.ts";
 * const err = new PluginError("TIMEOUT", 'Cannot load plugin "auth": timed out after 5000 ms', { plugin: "auth" });
 * if (err.code !== "TIMEOUT" || err.plugin !== "auth") throw new Error("unexpected");
 * ```
 */
export class PluginError extends Error {
  /** A stable code callers can switch on. */
  readonly code: PluginErrorCode;
  /** The plugin concerned, if any. */
  readonly plugin: string | undefined;
  /** The plugin's source (path or URL), if known. */
  readonly source: string | undefined;

  /**
   * @param code stable error code
   * @param message human-readable message saying what, where and how to fix
   * @param options plugin, source and cause
   */
  constructor(code: PluginErrorCode, message: string, options: PluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.plugin = options.plugin;
    this.source = options.source;
  }
}

/**
 * A load refused by the host's settings or by Deno's permission flags. The
 * message names the flag or option to add; `fix` holds it alone.
 *
 * @example
 * ```ts
 * import { PermissionError } from "./errors.ts";
 * const err = new PermissionError("x", "--allow-import=cdn.example.com", { plugin: "p" });
 * if (err.code !== "PERMISSION_DENIED" || err.fix !== "--allow-import=cdn.example.com") throw new Error();
 * ```
 */
export class PermissionError extends PluginError {
  /** The flag or option that would allow the load. */
  readonly fix: string;

  /**
   * @param message what was refused and how to allow it
   * @param fix the flag or option alone
   * @param options plugin, source and cause
   */
  constructor(message: string, fix: string, options: PluginErrorOptions = {}) {
    super("PERMISSION_DENIED", message, options);
    this.fix = fix;
  }
}

/**
 * A `config.json` that could not be read, substituted or validated.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError("bad", { plugin: "p", file: "/x/config.json", field: "timeout" });
 * if (err.field !== "timeout" || err.code !== "INVALID_CONFIG") throw new Error();
 * ```
 */
export class ConfigError extends PluginError {
  /** The config file concerned. */
  readonly file: string | undefined;
  /** The dotted path of the offending field, if one. */
  readonly field: string | undefined;

  /**
   * @param message what is wrong and where
   * @param options plugin, file, field and cause
   */
  constructor(
    message: string,
    options: PluginErrorOptions & { file?: string; field?: string } = {},
  ) {
    super("INVALID_CONFIG", message, options);
    this.file = options.file;
    this.field = options.field;
  }
}

/**
 * A lookup of a service nobody provides.
 *
 * @example
 * ```ts
 * import { Container, ServiceNotFoundError } from "../mod.ts";
 * try {
 *   new Container().resolve("mail", { requester: "notifier" });
 * } catch (err) {
 *   if (!(err instanceof ServiceNotFoundError) || err.plugin !== "notifier") throw err;
 * }
 * ```
 */
export class ServiceNotFoundError extends PluginError {
  /** The name that was asked for. */
  readonly service: string;

  /**
   * @param service the missing service name
   * @param requester who asked (a plugin name or "host")
   * @param available names that are provided, to suggest
   */
  constructor(service: string, requester: string | undefined, available: readonly string[]) {
    const who = requester ? `plugin "${requester}"` : "the host";
    const list = available.length ? available.map((n) => `"${n}"`).join(", ") : "none";
    super(
      "SERVICE_NOT_FOUND",
      `Cannot resolve service "${service}" for ${who}: no plugin provides it (provided: ${list}). ` +
        `Check the provider is loaded, or declare it in "dependencies" so it loads first`,
      { plugin: requester },
    );
    this.service = service;
  }
}
