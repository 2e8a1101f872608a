/**
 * The runtime seam: how the lifecycle reaches a plugin's code. The lifecycle
 * never calls into a plugin directly; it asks a {@linkcode PluginRuntime} to
 * import a version, then drives that {@linkcode PluginVersion} through
 * config validation, set-up, handover and stop. What the plugin registers
 * (listeners, services, routes, middleware, hooks, timers) lands in the
 * host's shared tables through {@linkcode HostPorts}, staged in the
 * version's host-side {@linkcode Scope}: an in-process runtime registers the
 * plugin's own functions, an isolated runtime registers proxies that
 * forward to its worker. Everything crossing the seam is async and, apart
 * from the ports and the scope (which stay in the host), structured-cloneable.
 *
 * @module
 */

import type { PlugboardEvents } from "../event_types.ts";
import type { PluginError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { HookRegistry } from "../hooks.ts";
import type { Logger } from "../logger.ts";
import type { McpPort } from "../mcp/port.ts";
import type { PluginMeta } from "../plugin_meta.ts";
import type { Capabilities } from "../plugin_permissions.ts";
import type { ErrorReporter } from "../reporter.ts";
import type { RouteTable } from "../routes.ts";
import type { DisposeFailure, Scope } from "../scope.ts";
import type { SchemaIssue } from "../schema.ts";
import type { Container } from "../services.ts";
import type { Storage } from "../storage.ts";

/** How a plugin's code runs: in the host's process, in a Worker, or in its own Deno process (the sandbox tier). */
export type IsolationKind = "in-process" | "worker" | "process";

/** What a running isolated version uses, as the host knows it. */
export interface VersionUsage {
  /** Its heap (plus external memory), as its runtime last reported it. */
  heapBytes?: number;
  /** Its process's resident memory, read by the host (sandboxed plugins, when the host may run `ps`). */
  rssBytes?: number;
  /** Its process id (sandboxed plugins). */
  pid?: number;
  /**
   * Timers alive: in-process, those set through `ctx.setTimeout`/`ctx.setInterval`; isolated or sandboxed, every
   * timer in its worker or process, as it reported last.
   */
  timers?: number;
  /** The limits its process runs under (sandboxed plugins). */
  limits?: { memoryMb: number; openFiles: number; cpuSeconds?: number };
}

/** A plugin's manifest, as read from its module: cloneable. */
export type PluginManifest =
  & Required<Pick<PluginMeta, "name" | "version" | "dependencies" | "permissions" | "emits">>
  & PluginMeta;

/** What the host shares with every plugin; a runtime registers into these. */
export interface HostPorts {
  readonly events: EventBus<PlugboardEvents>;
  readonly services: Container;
  readonly routes: RouteTable;
  readonly hooks: HookRegistry;
  /** The plugins' storage, opened on first use. */
  readonly storage: () => Pick<Storage, "kv" | "sql">;
  readonly log: Logger;
  readonly report: ErrorReporter;
  /** Asks the host to reload a plugin (its own `ctx.reload()`). */
  reload(name: string): Promise<void>;
  /** Who, other than `plugin`, declares `event` in its manifest's `emits`. @default nobody */
  emitClaimant?(plugin: string, event: string): string | undefined;
  /** Where `ctx.mcp` registers: the host's MCP table, or a worker's stand-in. @default none (`ctx.mcp` refuses) */
  mcp?: McpPort;
}

/** What to import. */
export interface ImportRequest {
  /** The URL to import: the source, a snapshot copy of it, or `inline:<name>`. */
  href: string;
  /** The source as the operator named it, for messages. */
  shown: string;
  /** The name to report before the manifest is read. */
  hint: string;
  /** How long the import may take, in ms. */
  timeoutMs: number;
  /** Maps paths in error messages back from a snapshot copy to the real files. */
  mapPaths?: (text: string) => string;
  /** A local plugin's folder (isolated plugins may read it). */
  pluginDir?: string;
  /** A URL plugin's `host:port` (isolated plugins may import from it). */
  sourceHost?: string;
  /**
   * For a new version of a plugin already approved (reload, restart): given
   * what the manifest asks for, returns the part beyond what the operator
   * approved, or undefined. An isolated version that asks for more is
   * refused before its code runs with any grant. @default everything admitted (a first load)
   */
  unapproved?: (capabilities: Capabilities) => Capabilities | undefined;
}

/** What `start` needs besides the host's ports. */
export interface StartRequest {
  /** The version's host-side scope: every registration is staged here. */
  scope: Scope;
  /** Where it was loaded from. */
  source: string;
  /** The validated config. */
  config: unknown;
  /** What the previous version handed over, on reload. */
  previous: unknown;
  /** How long setup may take, in ms. */
  setupTimeout: number;
  /** The plugin's data folder (created by the host). */
  dataDir: string;
  /** Refuse the version when its setup leaves a rejection nobody handles (reloads: the old version stays). */
  refuseStrayFailures?: boolean;
}

/** The outcome of validating config inside the runtime (the schema lives there). */
export type ConfigValidation = { ok: true; value: unknown } | { ok: false; issues: SchemaIssue[] };

/** One imported version of a plugin, in some runtime. */
export interface PluginVersion {
  /** The manifest the module declares. */
  readonly manifest: PluginManifest;
  /** Whether the module declares a config schema. */
  readonly hasConfigSchema: boolean;
  /**
   * Validates config with the plugin's schema (defaults applied).
   *
   * @param data config after `${VAR}` substitution
   */
  validateConfig(data: Record<string, unknown>): Promise<ConfigValidation>;
  /**
   * Runs the plugin's setup; its registrations are staged in `request.scope`.
   * On failure, rejects with a {@linkcode PluginError} after disposing the scope.
   */
  start(ports: HostPorts, request: StartRequest): Promise<void>;
  /** What this version hands to the next on reload (undefined when it registered nothing to hand over). */
  handover(): Promise<unknown>;
  /**
   * Runs the plugin's own teardown, undoes its registrations and runs its
   * `onDispose` callbacks, each within the time budget; every step runs.
   * An isolated version first stops receiving anything new, then lets the
   * HTTP requests already sent to its worker finish, for at most `drainMs`.
   *
   * @param options `timeoutMs`: the unload budget; `drainMs`: how long requests in flight may take to finish (default 0)
   * @returns what failed or ran over time
   */
  stop(options: { timeoutMs: number; drainMs?: number }): Promise<DisposeFailure[]>;
  /**
   * Releases a version that will never be started, or whose start failed
   * (refused, disabled, superseded): an isolated version's worker ends at
   * once. Idempotent; in-process versions hold nothing to release.
   */
  discard?(): void;
  /**
   * Called when the version's code stops answering or exits on its own (an
   * isolated plugin's worker crashed, hung or ran over its memory budget).
   * In-process versions never call it.
   */
  onCrash?: (error: PluginError) => void;
  /** The permissions the version runs with, when isolated. */
  readonly granted?: Deno.PermissionOptionsObject;
  /** Tells the version which services and hooks the host has now (isolated versions cache them). */
  refreshDirectory?(): void;
  /** What it uses now (isolated versions). */
  usage?(): Promise<VersionUsage>;
  /** A sandboxed version's process: its id and limits. */
  readonly sandbox?: { pid: number; limits: NonNullable<VersionUsage["limits"]> };
}

/** Imports plugin versions. */
export interface PluginRuntime {
  /** How the versions it imports run. */
  readonly kind: IsolationKind;
  /**
   * Imports a plugin module and reads its manifest.
   *
   * @throws {PluginError} `IMPORT_FAILED`, `TIMEOUT` or `INVALID_PLUGIN`
   */
  import(request: ImportRequest): Promise<PluginVersion>;
}
