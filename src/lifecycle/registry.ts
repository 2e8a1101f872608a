/**
 * The plugin records and their one state-changing function. Every change of
 * a plugin's lifecycle state goes through {@linkcode PluginRegistry.transition},
 * which also emits the matching `plugin.*` event, so state and events never
 * disagree.
 *
 * @module
 */

import type { SourceLocation } from "../error_location.ts";
import { PluginError } from "../errors.ts";
import type { PlugboardEvents } from "../event_types.ts";
import type { EventBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { PluginInfo, PluginState, PluginTimings } from "../plugin_info.ts";
import type { RouteTable } from "../routes.ts";
import type { IsolationKind, PluginManifest, PluginVersion } from "../runtime/runtime.ts";
import type { Scope } from "../scope.ts";
import type { Container } from "../services.ts";
import type { Capabilities } from "../plugin_permissions.ts";

/** The version of a plugin that is live, and what it needs to stop. */
export interface LiveVersion {
  version: PluginVersion;
  scope: Scope;
  /** The snapshot folder it was imported from, removed when it stops. */
  snapshot?: string;
}

/** What the host knows about one plugin. Change `state` only through {@linkcode PluginRegistry.transition}. */
export interface PluginRecord {
  readonly name: string;
  source: string;
  readonly state: PluginState;
  error?: PluginError;
  manifest?: PluginManifest;
  live?: LiveVersion;
  isolation?: IsolationKind;
  timings: PluginTimings;
  loadedAt?: Date;
  reloads: number;
  reloadError?: PluginError;
  reloadErrorLocation?: SourceLocation;
  /** Contained failures of its code since it was first loaded. */
  failures: number;
  /** Times its worker was restarted after a crash. */
  restarts: number;
  /**
   * When its worker crashed (ms since the epoch), for the crash window;
   * emptied when the operator loads or reloads it.
   */
  crashes: number[];
  /** What a refused new version asks for beyond the active one, until approved. */
  pendingPermissions?: Capabilities;
  /** Permissions the operator approved for the next version. */
  approvedPermissions?: Capabilities;
  /** The content hash of the refused version (`plugin_hash.ts`), when it has a folder. */
  pendingHash?: string;
  /** The content hash the approval was given for: another version's code must be approved again. */
  approvedHash?: string;
}

const EVENT_OF: Partial<Record<PluginState, keyof PlugboardEvents & `plugin.${string}`>> = {
  discovered: "plugin.discovered",
  loading: "plugin.loading",
  active: "plugin.loaded",
  failed: "plugin.failed",
  unloading: "plugin.unloading",
  unloaded: "plugin.unloaded",
};

/** What {@linkcode PluginRegistry} reads to describe plugins. */
export interface RegistryParts {
  events: EventBus<PlugboardEvents>;
  services: Container;
  routes: RouteTable;
  log: Logger;
}

/**
 * Plugin records by name, in the order they were first seen, and the order
 * plugins became active (unloads run in reverse).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Container, EventBus, Logger, RouteTable } from "../../mod.ts";
 * import { PluginRegistry } from "./registry.ts";
 * const events = new EventBus();
 * const seen: string[] = [];
 * events.on("plugin.*", (_p, name) => void seen.push(name));
 * const registry = new PluginRegistry({
 *   events, services: new Container(), routes: new RouteTable(), log: new Logger("t", { level: "silent" }),
 * });
 * const record = registry.track("hello", "./plugins/hello/mod.ts");
 * registry.transition(record, "loading");
 * assert.equal(registry.get("hello")?.state, "loading");
 * assert.deepEqual(seen, ["plugin.discovered", "plugin.loading"]);
 * ```
 */
export class PluginRegistry {
  #records = new Map<string, PluginRecord>();
  #activeOrder: string[] = [];
  #parts: RegistryParts;

  /** @param parts the host's bus, container, routes and logger */
  constructor(parts: RegistryParts) {
    this.#parts = parts;
  }

  /**
   * A record by name.
   *
   * @param name the plugin
   * @returns the record, or undefined
   */
  get(name: string): PluginRecord | undefined {
    return this.#records.get(name);
  }

  /**
   * A record by name, or a `NOT_FOUND` error listing the known names.
   *
   * @param name the plugin
   * @returns the record
   * @throws {PluginError} `NOT_FOUND`
   */
  require(name: string): PluginRecord {
    const record = this.#records.get(name);
    if (!record) {
      const known = [...this.#records.keys()].map((n) => `"${n}"`).join(", ") || "none";
      throw new PluginError("NOT_FOUND", `Cannot find plugin "${name}": no such plugin (known: ${known})`, {
        plugin: name,
      });
    }
    return record;
  }

  /** Every record, in the order first seen. */
  records(): PluginRecord[] {
    return [...this.#records.values()];
  }

  /**
   * Starts tracking a plugin as `discovered` (emits `plugin.discovered`),
   * taking over the slot of a known name but keeping its position, reload,
   * failure and restart counts. Its crash window starts empty: a load is the
   * operator's, so a plugin that crash-looped gets its full allowance again.
   *
   * @param name the plugin
   * @param source where it comes from
   * @returns the new record
   */
  track(name: string, source: string): PluginRecord {
    const old = this.#records.get(name);
    const record: PluginRecord = {
      name,
      source,
      state: "discovered",
      timings: {},
      reloads: old?.reloads ?? 0,
      failures: old?.failures ?? 0,
      restarts: old?.restarts ?? 0,
      crashes: [],
      approvedPermissions: old?.approvedPermissions,
      approvedHash: old?.approvedHash,
    };
    this.#records.set(name, record);
    this.#emit("plugin.discovered", record);
    return record;
  }

  /**
   * Forgets a plugin.
   *
   * @param name the plugin
   */
  forget(name: string): void {
    this.#records.delete(name);
    this.#activeOrder = this.#activeOrder.filter((n) => n !== name);
  }

  /**
   * The one place a plugin's state changes: sets it, keeps the active order,
   * logs failures, and emits the matching `plugin.*` event.
   *
   * @param record the plugin
   * @param state the new state
   * @param detail the error (for `failed`), the duration, and whether an active plugin was swapped (`reloaded`)
   */
  transition(
    record: PluginRecord,
    state: PluginState,
    detail: { error?: PluginError; durationMs?: number; reloaded?: boolean } = {},
  ): void {
    (record as { state: PluginState }).state = state;
    if (state === "failed") {
      record.error = detail.error;
      record.live = undefined;
      if (detail.error?.manifest) record.manifest ??= detail.error.manifest as PluginManifest;
      this.#parts.log.error(detail.error?.message ?? `Plugin "${record.name}" failed`);
    }
    if (state === "active") {
      record.error = undefined;
      this.#activeOrder = [...this.#activeOrder.filter((n) => n !== record.name), record.name];
    } else {
      this.#activeOrder = this.#activeOrder.filter((n) => n !== record.name);
    }
    if (state === "unloaded") record.live = undefined;
    if (state === "disabled") this.#parts.log.info(`Plugin "${record.name}" is disabled by its config`);
    const event = detail.reloaded ? "plugin.reloaded" : EVENT_OF[state];
    if (event) this.#emit(event, record, detail.durationMs);
  }

  /**
   * Records a refused reload (the active version keeps serving) and emits `plugin.reload_failed`.
   *
   * @param record the plugin
   * @param error why
   * @param location where the failure points, when known
   */
  reloadFailed(record: PluginRecord, error: PluginError, location: SourceLocation | undefined): void {
    record.reloadError = error;
    record.reloadErrorLocation = location;
    this.#parts.log.error(`Reload of "${record.name}" refused; the previous version keeps serving: ${error.message}`);
    this.#parts.events.emit("plugin.reload_failed", {
      name: record.name,
      version: record.manifest?.version,
      source: record.source,
      error: error.message,
      location,
    });
  }

  /** Active plugin names, in the order they became active. */
  activeOrder(): readonly string[] {
    return this.#activeOrder;
  }

  /** The active plugins as dependency-graph nodes. */
  activeNodes(): { name: string; version: string; dependencies: Record<string, string> }[] {
    return this.records().filter((r) => r.state === "active" && r.manifest).map((r) => ({
      name: r.name,
      version: r.manifest!.version,
      dependencies: r.manifest!.dependencies,
    }));
  }

  /**
   * Describes a plugin as `list()` and the admin API show it.
   *
   * @param record the plugin
   * @returns a detached snapshot
   */
  info(record: PluginRecord): PluginInfo {
    const meta = record.manifest;
    const active = record.state === "active";
    return {
      name: record.name,
      version: meta?.version,
      description: meta?.description,
      author: meta?.author,
      state: record.state,
      source: record.source,
      dependencies: { ...meta?.dependencies },
      error: record.error?.message,
      errorCode: record.error?.code,
      services: active ? this.#parts.services.names(record.name) : [],
      routes: active ? this.#parts.routes.describe(record.name) : [],
      hostWide: active ? this.#hostWide(record.name) : undefined,
      timings: { ...record.timings },
      loadedAt: record.loadedAt?.toISOString(),
      reloads: record.reloads,
      reloadError: record.reloadError?.message,
      reloadErrorLocation: record.reloadErrorLocation,
      isolation: record.isolation,
      sandbox: active ? record.live?.version.sandbox : undefined,
      permissions: meta ? { ...meta.permissions } : undefined,
      emits: meta?.emits.length ? [...meta.emits] : undefined,
      restarts: record.restarts,
      failures: record.failures,
      pendingPermissions: record.pendingPermissions,
      pendingHash: record.pendingPermissions ? record.pendingHash : undefined,
    };
  }

  /** The host-wide HTTP hooks a plugin runs, or undefined when none. */
  #hostWide(name: string): PluginInfo["hostWide"] {
    const middleware = this.#parts.routes.middleware.filter((m) => m.owner === name).length;
    const responseObservers = this.#parts.routes.observers.filter((o) => o.owner === name).length;
    return middleware || responseObservers ? { middleware, responseObservers } : undefined;
  }

  #emit(event: keyof PlugboardEvents & `plugin.${string}`, record: PluginRecord, durationMs?: number): void {
    this.#parts.events.emit(event, {
      name: record.name,
      version: record.manifest?.version,
      source: record.source,
      error: record.error?.message,
      ...(durationMs === undefined ? {} : { durationMs }),
    });
  }
}
