/**
 * The host's settings, resolved once. {@linkcode hostSettingsSchema} checks
 * `plugboard.json`; {@linkcode HostOptions} is the same set of fields plus
 * what only code can pass (a logger sink, an env reader); and
 * {@linkcode resolveHostOptions} fills every default in one place, so the
 * loader, storage, host and CLI never repeat a default.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { EnvReader } from "./config.ts";
import type { LoggerOptions } from "./logger.ts";
import type { StorageOptions } from "./storage.ts";
import { type PluginPermissions, pluginPermissionsSchema } from "./plugin_permissions.ts";
import { SettingsError } from "./errors.ts";
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HANG_TIMEOUT,
  DEFAULT_ROUTE_TIMEOUT,
  type RouteLimits,
  routeLimitsSchema,
  timeoutSchema,
} from "./plugin_limits.ts";
import { formatIssues } from "./schema.ts";
import { checkApiKey, checkSandboxed } from "./settings_checks.ts";
import type { McpLimits } from "./mcp/limits.ts";
import { mcpLimitsSchema } from "./mcp/limits_schema.ts";

export { checkApiKey, MIN_API_KEY_LENGTH } from "./settings_checks.ts";
import { type ObservabilitySettings, observabilitySettingsSchema } from "./metrics/settings.ts";

export { DEFAULT_BODY_LIMIT, DEFAULT_HANG_TIMEOUT, DEFAULT_ROUTE_TIMEOUT } from "./plugin_limits.ts";
export type { RouteLimits } from "./plugin_limits.ts";

/** What `plugboard.json` holds; every field is optional. */
export interface HostSettings {
  /** The port to listen on; 0 picks a free one. @default 8000 */
  port?: number;
  /** The interface to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** The folder searched for plugins; `null` for none. @default "./plugins" */
  pluginsDir?: string | null;
  /** Extra plugin sources (paths or URLs; a URL may carry the SRI hash of its entry). @default [] */
  plugins?: PluginSource[];
  /** Hosts (`name` or `name:port`) URL plugins may come from. @default [] */
  allowImport?: string[];
  /** Refuse any URL plugin or module that `plugboard.lock` does not pin (production). @default false */
  frozen?: boolean;
  /** Start URL plugins from the lock and their snapshots only, never the network. @default false */
  offline?: boolean;
  /** The lock file of URL plugins. @default "./plugboard.lock" */
  lockFile?: string;
  /** Limits on fetching URL plugins. @default 10 s per module, 2 MiB per module, 20 MiB and 1,000 modules per graph */
  remote?: RemoteLimits;
  /** Extra folders local plugins may be loaded from. @default [] */
  allowRead?: string[];
  /** How long a plugin's `setup` may take, in ms. @default 10000 */
  setupTimeout?: number;
  /** How long importing a plugin module may take, in ms. @default 30000 */
  importTimeout?: number;
  /** How long a plugin's unload may take, in ms. @default 5000 */
  disposeTimeout?: number;
  /** How long in-flight requests may take to finish on shutdown, in ms. @default 10000 */
  shutdownTimeout?: number;
  /** Reload plugins when their files change. @default false */
  watch?: boolean;
  /** Config per plugin name, merged over its `config.json`. @default {} */
  config?: Record<string, Record<string, unknown>>;
  /** The plugins' databases: `dir` holds `plugins/<name>/storage.db`. @default { dir: dataDir } */
  storage?: { dir?: string; path?: string };
  /** The folder holding each plugin's data folder (`<dataDir>/plugins/<name>/`). @default "./data" */
  dataDir?: string;
  /**
   * How plugins run: `"worker"` isolates each in its own Worker with only the
   * permissions its manifest declares; `"none"` runs every plugin in-process. @default "worker"
   */
  isolation?: "worker" | "none";
  /** Plugins the operator trusts to run in-process (by name, which must match its folder's name). @default [] */
  trusted?: string[];
  /**
   * Plugins the operator sandboxes: each runs in its own Deno process, with
   * Deno's permission flags built from its grant and limits the kernel
   * enforces (heap, open files, CPU time; see `limits`). Linux only; the
   * host needs `--allow-run=prlimit,ps`. @default []
   */
  sandboxed?: string[];
  /**
   * Permissions the operator grants isolated plugins on top of what their
   * manifests declare, by plugin name: `{ notifier: { net: ["hooks.example.com"] } }`. @default {}
   */
  grants?: Record<string, PluginPermissions>;
  /**
   * Catch plugins' failures that nobody awaited (a floating rejected
   * promise, a throwing `setTimeout` callback), report them against the
   * plugin on their stack and keep serving, instead of letting them end the
   * process. A stray failure that no plugin's file is on keeps Deno's
   * default (the process ends with its stack). @default true
   */
  catchStrayFailures?: boolean;
  /**
   * Isolated plugins: how long a worker may stay silent (no reply, note or
   * heartbeat) while it owes an answer before it is judged hung and
   * restarted, in ms. A busy worker that keeps answering is never ended;
   * this bounds one task that never yields (`for (;;) {}`). Per plugin:
   * `limits.<name>.hangTimeout`. @default 10000
   */
  hangTimeout?: number;
  /** @deprecated The former name of `hangTimeout`, read when `hangTimeout` is not set. */
  heartbeatTimeout?: number;
  /** Isolated plugins: the heap a worker may use before it is restarted, in MB. @default 256 */
  memoryLimitMb?: number;
  /** The largest request body a plugin route accepts, in bytes (413 beyond). @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** How long a plugin route may take to send its headers, in ms (504 beyond). @default 30000 */
  routeTimeout?: number;
  /**
   * `bodyLimit`, `routeTimeout` and `hangTimeout` for one plugin, by name,
   * over the host-wide values: `{ "uploads": { "bodyLimit": 52428800 } }`. @default {}
   */
  limits?: Record<string, RouteLimits>;
  /**
   * Host names (besides loopback names) the admin API accepts in the `Host`
   * header when no admin key is set; the CLI adds `--hostname`. @default []
   */
  allowedHosts?: string[];
  /** Access log, metrics (`/metrics`), dashboard (`/admin`) and per-plugin debug (docs/OPERATIONS.md). @default all on */
  observability?: ObservabilitySettings;
  /** Limits of the MCP endpoint (`/mcp`): sizes, calls and sessions (docs/HTTP.md). @default see `McpLimits` */
  mcp?: Partial<McpLimits>;
}

/**
 * Checks `plugboard.json` with zod; an unknown key is an error. Typed as
 * {@linkcode HostSettings}, so the schema and the type cannot drift apart.
 */
/** Limits on fetching URL plugins (`remote`), checked in code as in plugboard.json. */
const remoteLimitsSchema = z.object({
  timeoutMs: timeoutSchema.optional(),
  maxModuleBytes: z.number().int().positive().optional(),
  maxGraphBytes: z.number().int().positive().optional(),
  maxModules: z.number().int().positive().optional(),
  maxRedirects: z.number().int().min(0).optional(),
}).strict();

export const hostSettingsSchema: z.ZodType<HostSettings> = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  hostname: z.string().min(1).optional(),
  pluginsDir: z.string().min(1).nullable().optional(),
  plugins: z.array(
    z.union([
      z.string().min(1),
      z.object({
        source: z.string().min(1),
        integrity: z.string().regex(/^sha256-[A-Za-z0-9+/]{43}=$/, 'must be "sha256-" and 44 base64 characters')
          .optional(),
      }).strict(),
    ]),
  ).optional(),
  allowImport: z.array(z.string().min(1)).optional(),
  frozen: z.boolean().optional(),
  offline: z.boolean().optional(),
  lockFile: z.string().min(1).optional(),
  remote: remoteLimitsSchema.optional(),
  allowRead: z.array(z.string().min(1)).optional(),
  setupTimeout: timeoutSchema.optional(),
  importTimeout: timeoutSchema.optional(),
  disposeTimeout: timeoutSchema.optional(),
  shutdownTimeout: timeoutSchema.optional(),
  watch: z.boolean().optional(),
  config: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  storage: z.object({ dir: z.string().min(1).optional(), path: z.string().min(1).optional() }).strict().optional(),
  dataDir: z.string().min(1).optional(),
  isolation: z.enum(["worker", "none"]).optional(),
  trusted: z.array(z.string().min(1)).optional(),
  sandboxed: z.array(z.string().min(1)).optional(),
  grants: z.record(z.string(), pluginPermissionsSchema).optional(),
  hangTimeout: timeoutSchema.optional(),
  heartbeatTimeout: timeoutSchema.optional(),
  memoryLimitMb: z.number().int().positive().optional(),
  catchStrayFailures: z.boolean().optional(),
  bodyLimit: z.number().int().positive().optional(),
  routeTimeout: timeoutSchema.optional(),
  limits: z.record(z.string(), routeLimitsSchema).optional(),
  allowedHosts: z.array(z.string().min(1)).optional(),
  observability: observabilitySettingsSchema.optional(),
  mcp: mcpLimitsSchema.optional(),
}).strict();

/** A plugin source: a path or URL, or a URL with the SRI hash of its entry module. */
export type PluginSource = string | { source: string; integrity?: string };

/** Limits on fetching a URL plugin's module graph. */
export interface RemoteLimits {
  /** How long fetching one module may take, redirects and body included, in ms. @default 10000 */
  timeoutMs?: number;
  /** The largest module, in bytes. @default 2 MiB */
  maxModuleBytes?: number;
  /** The most bytes a whole module graph may hold. @default 20 MiB */
  maxGraphBytes?: number;
  /** The most modules a graph may hold. @default 1000 */
  maxModules?: number;
  /** The most redirects followed for one module. @default 10 */
  maxRedirects?: number;
}

/**
 * Options for `createHost`: the host's part of {@linkcode HostSettings},
 * plus what only code can pass. `port`, `hostname`, `watch` and
 * `shutdownTimeout` belong to the server around the host (see `serve`), so
 * they are left out; `storage` is replaced by the wider
 * {@linkcode StorageOptions}.
 */
export interface HostOptions extends Omit<HostSettings, "port" | "hostname" | "watch" | "shutdownTimeout" | "storage"> {
  /** The folder searched for plugins by `start()`; `null` for none. @default "./plugins" */
  pluginsDir?: string | null;
  /** Extra plugin sources (paths or URLs, optionally with an entry `integrity`) loaded by `start()`. @default [] */
  plugins?: PluginSource[];
  /** Hosts (`name` or `name:port`) URL plugins may come from. @default [] */
  allowImport?: string[];
  /** Extra folders local plugins may be loaded from, besides `pluginsDir`. @default [] */
  allowRead?: string[];
  /** How long a plugin's `setup` may take, in ms. @default 10000 */
  setupTimeout?: number;
  /** How long importing a plugin module may take, in ms. @default 30000 */
  importTimeout?: number;
  /** How long a plugin's unload (teardown and `onDispose` callbacks) may take, in ms. @default 5000 */
  disposeTimeout?: number;
  /** Config per plugin name, merged over its `config.json` (the only config of URL plugins). @default {} */
  config?: Record<string, Record<string, unknown>>;
  /** The folder relative paths start from. @default Deno.cwd() */
  cwd?: string;
  /**
   * The admin API key, sent by clients as `X-API-Key`. Without one, the admin
   * API answers loopback clients only. @default undefined
   */
  apiKey?: string;
  /** Reads environment variables for `${VAR}` substitution. @default Deno.env.get */
  env?: EnvReader;
  /** Log level and sink. @default level "info" ("debug" with PLUGBOARD_DEBUG=1), console */
  logger?: LoggerOptions;
  /** The plugins' databases (opened on first use). @default { dir: dataDir } */
  storage?: StorageOptions;
}

/** Every host option with its default applied; paths are absolute. */
export interface ResolvedHostOptions {
  cwd: string;
  /** Absolute, or null when discovery is off. */
  pluginsDir: string | null;
  plugins: readonly string[];
  allowImport: readonly string[];
  /** Inline SRI hashes of URL plugins' entries, by source. */
  integrity: Readonly<Record<string, string>>;
  frozen: boolean;
  offline: boolean;
  /** Absolute. */
  lockFile: string;
  remote: RemoteLimits;
  /** Absolute folders local plugins may come from (the plugins folder first). */
  readRoots: readonly string[];
  setupTimeout: number;
  importTimeout: number;
  disposeTimeout: number;
  config: Readonly<Record<string, Record<string, unknown>>>;
  apiKey: string | undefined;
  env: EnvReader | undefined;
  logger: LoggerOptions;
  /** The plugins' databases, paths absolute (`dir: ":memory:"` keeps in-process plugins' data in memory). */
  storage: StorageOptions;
  /** Absolute. */
  dataDir: string;
  isolation: "worker" | "none";
  trusted: readonly string[];
  sandboxed: readonly string[];
  catchStrayFailures: boolean;
  grants: Readonly<Record<string, PluginPermissions>>;
  /** How long a worker may stay silent while it owes an answer, in ms (per plugin: `limitsOf` of plugin_limits.ts). */
  hangTimeout: number;
  memoryLimitMb: number;
  bodyLimit: number;
  routeTimeout: number;
  limits: Readonly<Record<string, RouteLimits>>;
  /** Lower-case host names the admin API accepts in no-key mode, besides loopback names. */
  allowedHosts: readonly string[];
  observability: ObservabilitySettings;
  mcp: Partial<McpLimits>;
}

/**
 * The limits a host takes in code, checked as `plugboard.json`'s are: a value
 * a caller computed or mistyped (0, a negative, NaN, a string, a delay no
 * timer can hold) fails at `createHost`, not as workers judged hung at once
 * or routes that all time out.
 */
const hostLimitsSchema = z.object({
  setupTimeout: timeoutSchema,
  importTimeout: timeoutSchema,
  disposeTimeout: timeoutSchema,
  hangTimeout: timeoutSchema,
  heartbeatTimeout: timeoutSchema,
  routeTimeout: timeoutSchema,
  memoryLimitMb: z.number().int().positive(),
  bodyLimit: z.number().int().positive(),
  limits: z.record(z.string(), routeLimitsSchema),
  mcp: mcpLimitsSchema,
  observability: observabilitySettingsSchema,
  remote: remoteLimitsSchema,
}).partial();

/** Where plugins' data lives unless `dataDir` says otherwise (relative to cwd). */
export const DEFAULT_DATA_DIR = "./data";

/**
 * Fills in every default and makes paths absolute.
 *
 * @param options what the caller passed
 * @returns the options the host runs with
 * @throws {SettingsError} a time or size limit that is not a whole number in range
 *
 * @example Defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveHostOptions } from "./options.ts";
 * const o = resolveHostOptions({ cwd: "/srv/app" });
 * assert.equal(o.pluginsDir, "/srv/app/plugins");
 * assert.equal(o.setupTimeout, 10_000);
 * assert.equal(o.dataDir, "/srv/app/data");
 * assert.deepEqual(o.storage, { dir: "/srv/app/data" });
 * ```
 */
export function resolveHostOptions(options: HostOptions = {}): ResolvedHostOptions {
  const checked = hostLimitsSchema.safeParse(options);
  if (!checked.success) throw new SettingsError(`Host options are invalid: ${formatIssues(checked.error.issues)}`);
  const cwd = options.cwd ?? Deno.cwd();
  const pluginsDir = options.pluginsDir === null ? null : resolve(cwd, options.pluginsDir ?? "./plugins");
  const abs = (p: string) => p === ":memory:" ? p : resolve(cwd, p);
  const legacyPath = options.storage?.path;
  const dataDir = resolve(
    cwd,
    options.dataDir ?? options.storage?.dir ??
      (legacyPath && legacyPath !== ":memory:" ? dirname(abs(legacyPath)) : DEFAULT_DATA_DIR),
  );
  const storage: StorageOptions = {
    ...options.storage,
    ...(legacyPath !== undefined ? { path: abs(legacyPath) } : { dir: abs(options.storage?.dir ?? dataDir) }),
  };
  return {
    cwd,
    pluginsDir,
    plugins: (options.plugins ?? []).map((p) => typeof p === "string" ? p : p.source),
    allowImport: [...(options.allowImport ?? [])],
    integrity: Object.fromEntries(
      (options.plugins ?? []).flatMap((p) => typeof p === "string" || !p.integrity ? [] : [[p.source, p.integrity]]),
    ),
    frozen: options.frozen ?? false,
    offline: options.offline ?? false,
    lockFile: resolve(cwd, options.lockFile ?? "./plugboard.lock"),
    remote: { ...options.remote },
    readRoots: [...(pluginsDir ? [pluginsDir] : []), ...(options.allowRead ?? []).map((r) => resolve(cwd, r))],
    setupTimeout: options.setupTimeout ?? 10_000,
    importTimeout: options.importTimeout ?? 30_000,
    disposeTimeout: options.disposeTimeout ?? 5_000,
    config: { ...options.config },
    apiKey: checkApiKey(options.apiKey),
    env: options.env,
    logger: { ...options.logger },
    storage,
    dataDir,
    isolation: options.isolation ?? "worker",
    trusted: [...(options.trusted ?? [])],
    sandboxed: checkSandboxed(options.sandboxed ?? [], options.trusted ?? []),
    catchStrayFailures: options.catchStrayFailures ?? true,
    grants: { ...options.grants },
    hangTimeout: options.hangTimeout ?? options.heartbeatTimeout ?? DEFAULT_HANG_TIMEOUT,
    memoryLimitMb: options.memoryLimitMb ?? 256,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routeTimeout: options.routeTimeout ?? DEFAULT_ROUTE_TIMEOUT,
    limits: { ...options.limits },
    allowedHosts: (options.allowedHosts ?? []).map((h) => h.toLowerCase()),
    observability: { ...options.observability },
    mcp: { ...options.mcp },
  };
}
