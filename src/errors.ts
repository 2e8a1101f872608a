/**
 * The few error classes plugboard throws, each carrying a code of the
 * catalogue (`error_catalogue.ts`: HTTP status, title, fix hint). A
 * {@linkcode PluginError} keeps its parts apart (code, stage, plugin, source,
 * reason), so its message is built once, in one shape:
 * `Cannot load plugin "auth": setup timed out after 5000 ms`.
 *
 * @module
 */

import { errorText } from "./error_text.ts";
import type { PluginMeta } from "./plugin_meta.ts";
import { ERROR_CATALOGUE, type ErrorSpec, type PluginErrorCode } from "./error_catalogue.ts";

export { ERROR_CATALOGUE, type ErrorSpec, type PluginErrorCode };

/** What the host was doing with the plugin when the error happened. */
export type PluginStage = "load" | "reload" | "update" | "unload" | "run";

/** Options shared by the plugboard error classes. */
export interface PluginErrorOptions {
  /** The plugin the error concerns, when known. */
  plugin?: string;
  /** Where the plugin came from (path or URL), when known. */
  source?: string;
  /**
   * What the host was doing. With a plugin, the message reads
   * `Cannot <stage> plugin "<plugin>"[ from <from>]: <reason>`; without, it is the reason alone.
   */
  stage?: Exclude<PluginStage, "run">;
  /** Named in the message after the plugin: the path or URL being loaded. @default undefined */
  from?: string;
  /** The plugin's manifest, when it was read before the failure. */
  manifest?: PluginMeta;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base class of every error plugboard throws on purpose.
 *
 * @example A load failure, and the same failure on reload
 * ```ts
 * import assert from "node:assert/strict";
 * import { PluginError } from "./errors.ts";
 * const err = new PluginError("TIMEOUT", "setup timed out after 5000 ms", { plugin: "auth", stage: "load" });
 * assert.equal(err.message, 'Cannot load plugin "auth": setup timed out after 5000 ms');
 * assert.equal(err.with({ stage: "reload" }).message, 'Cannot reload plugin "auth": setup timed out after 5000 ms');
 * assert.equal(err.status, 422);
 * ```
 */
export class PluginError extends Error {
  /** A stable code callers can switch on. */
  readonly code: PluginErrorCode;
  /** The plugin concerned, if any. */
  readonly plugin: string | undefined;
  /** The plugin's source (path or URL), if known. */
  readonly source: string | undefined;
  /** What the host was doing, if it concerns a plugin's lifecycle. */
  readonly stage: Exclude<PluginStage, "run"> | undefined;
  /** The failure alone, without the "Cannot load plugin" part. */
  readonly reason: string;
  /** The manifest of the plugin, when it was read before the failure. */
  readonly manifest: PluginMeta | undefined;
  /** The path or URL named in the message after the plugin, if any. */
  readonly from: string | undefined;

  /**
   * Creates an error whose message is `Cannot <stage> plugin "<plugin>": <reason>`
   * when both `stage` and `plugin` are given, else `reason` alone.
   *
   * @param code stable error code
   * @param reason what went wrong and how to fix it (the whole message when no `stage` is given)
   * @param options plugin, source, stage, manifest and cause
   */
  constructor(code: PluginErrorCode, reason: string, options: PluginErrorOptions = {}) {
    super(formatMessage(reason, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.plugin = options.plugin;
    this.source = options.source;
    this.stage = options.stage;
    this.manifest = options.manifest;
    this.from = options.from;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  /** What usually fixes an error of this code. */
  get hint(): string {
    return ERROR_CATALOGUE[this.code].hint;
  }

  /**
   * A copy with another stage or manifest; the same class, code, reason and cause.
   *
   * @param patch the fields to change
   * @returns the copy
   */
  with(patch: { stage?: Exclude<PluginStage, "run">; manifest?: PluginMeta; plugin?: string }): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this);
    const fields = copy as unknown as Record<string, unknown>;
    if (patch.stage) fields.stage = patch.stage;
    if (patch.manifest) fields.manifest = patch.manifest;
    if (patch.plugin) fields.plugin = patch.plugin;
    copy.message = formatMessage(this.reason, { plugin: copy.plugin, stage: copy.stage, from: this.from });
    copy.stack = `${this.name}: ${copy.message}${this.stack?.slice(this.stack.indexOf("\n")) ?? ""}`;
    if (this.cause !== undefined) copy.cause = this.cause;
    return copy;
  }
}

function formatMessage(reason: string, options: PluginErrorOptions): string {
  if (!options.stage || !options.plugin) return reason;
  return `Cannot ${options.stage} plugin "${options.plugin}"${options.from ? ` from ${options.from}` : ""}: ${reason}`;
}

/**
 * Wraps anything a plugin threw as a {@linkcode PluginError} (kept as it is when it already is one).
 *
 * @param error the thrown value
 * @param code the code to use for a foreign error
 * @param options plugin, stage, source
 * @returns a PluginError
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asPluginError } from "./errors.ts";
 * const err = asPluginError(new TypeError("x is undefined"), "SETUP_FAILED", { plugin: "p", stage: "load" });
 * assert.equal(err.message, 'Cannot load plugin "p": x is undefined');
 * ```
 */
export function asPluginError(
  error: unknown,
  code: PluginErrorCode,
  options: PluginErrorOptions & { prefix?: string } = {},
): PluginError {
  if (isPluginError(error)) return error;
  const text = errorText(error);
  return new PluginError(code, options.prefix ? `${options.prefix}: ${text}` : text, { ...options, cause: error });
}

/** `instanceof PluginError`, false for a value that cannot be inspected (a revoked Proxy) rather than a throw. */
function isPluginError(value: unknown): value is PluginError {
  try {
    return value instanceof PluginError;
  } catch {
    return false;
  }
}

/**
 * A load refused by the host's settings or by Deno's permission flags. The
 * message names the flag or option to add; `fix` holds it alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PermissionError } from "./errors.ts";
 * const err = new PermissionError("x", "--allow-import=cdn.example.com", { plugin: "p" });
 * assert.equal(err.code, "PERMISSION_DENIED");
 * assert.equal(err.fix, "--allow-import=cdn.example.com");
 * ```
 */
export class PermissionError extends PluginError {
  /** The flag or option that would allow the load. */
  readonly fix: string;

  /**
   * Creates a `PERMISSION_DENIED` error.
   *
   * @param reason what was refused and how to allow it
   * @param fix the flag or option alone
   * @param options plugin, source, stage and cause
   */
  constructor(reason: string, fix: string, options: PluginErrorOptions = {}) {
    super("PERMISSION_DENIED", reason, options);
    this.fix = fix;
  }
}

/**
 * A `config.json` that could not be read, substituted or validated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "./errors.ts";
 * const err = new ConfigError("bad", { plugin: "p", file: "/x/config.json", field: "timeout" });
 * assert.equal(err.field, "timeout");
 * assert.equal(err.code, "INVALID_CONFIG");
 * ```
 */
export class ConfigError extends PluginError {
  /** The config file concerned. */
  readonly file: string | undefined;
  /** The dotted path of the offending field, if one. */
  readonly field: string | undefined;

  /**
   * Creates an `INVALID_CONFIG` error.
   *
   * @param reason what is wrong and where
   * @param options plugin, file, field, stage and cause
   */
  constructor(
    reason: string,
    options: PluginErrorOptions & { file?: string; field?: string } = {},
  ) {
    super("INVALID_CONFIG", reason, options);
    this.file = options.file;
    this.field = options.field;
  }
}

/**
 * A lookup of a service nobody provides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Container, ServiceNotFoundError } from "../mod.ts";
 * assert.throws(
 *   () => new Container().resolve("mail", { requester: "notifier" }),
 *   (err) => err instanceof ServiceNotFoundError && err.plugin === "notifier",
 * );
 * ```
 */
export class ServiceNotFoundError extends PluginError {
  /** The name that was asked for. */
  readonly service: string;

  /**
   * Creates a `SERVICE_NOT_FOUND` error whose message lists what is provided
   * and says how to make the service available.
   *
   * @param service the missing service name
   * @param requester the plugin that asked; undefined for the host
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

/**
 * A command-line flag or `plugboard.json` field that cannot be used. The CLI
 * prints its message alone and exits with code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SettingsError } from "./errors.ts";
 * const err = new SettingsError('--port must be a whole number from 0 to 65535: current value is "abc"');
 * assert.equal(err.code, "INVALID_SETTINGS");
 * ```
 */
export class SettingsError extends PluginError {
  /**
   * Creates an `INVALID_SETTINGS` error.
   *
   * @param message what is wrong and how to fix it; the whole message
   */
  constructor(message: string) {
    super("INVALID_SETTINGS", message);
  }
}
