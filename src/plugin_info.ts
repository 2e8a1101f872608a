/**
 * What the host tells about each plugin: its state and how it got there.
 *
 * @module
 */

import type { Capabilities, PluginPermissions } from "./plugin_permissions.ts";

/**
 * Where a plugin is in its lifecycle:
 * `discovered → loading → active → unloading → unloaded`, or `failed`, or
 * `disabled` (its config says `"enabled": false`).
 */
export type PluginState = "discovered" | "disabled" | "loading" | "active" | "failed" | "unloading" | "unloaded";

/** Milliseconds spent on each step of the last (re)load. */
export interface PluginTimings {
  /** Permission checks, import and manifest validation. */
  importMs?: number;
  /** Config, dependencies and `setup`. */
  setupMs?: number;
  /** The whole load. */
  totalMs?: number;
}

/** A snapshot of one plugin, as `host.list()` and the admin API show it. */
export interface PluginInfo {
  /**
   * The plugin's name: its manifest's `name`, or, for a plugin whose
   * manifest was never read (it failed first), the name it was shown under
   * (its folder's name for a discovered plugin).
   */
  name: string;
  /** Its manifest's `version`; undefined until the manifest is read. */
  version?: string;
  /** Its manifest's `description`, if it has one. */
  description?: string;
  /** Its manifest's `author`, if it has one. */
  author?: string;
  /** Where it is in its lifecycle now. */
  state: PluginState;
  /** The path or URL it was loaded from. */
  source: string;
  /** Other plugins it needs, with ranges. */
  dependencies: Record<string, string>;
  /** Why it failed, for `failed`. */
  error?: string;
  /** The error's code, for `failed`. */
  errorCode?: string;
  /** Services it provides. */
  services: string[];
  /** Routes it serves, as `METHOD /path`. */
  routes: string[];
  /**
   * What it sees of other plugins' HTTP traffic, when anything: how many
   * host-wide middleware it runs (each sees the head of every plugin
   * request) and how many response observers (`ctx.onResponse`).
   */
  hostWide?: { middleware: number; responseObservers: number };
  /** How long each step of its last successful load or reload took; empty before one completes. */
  timings: PluginTimings;
  /** When it became active (ISO 8601). */
  loadedAt?: string;
  /** Successful reloads since it was first loaded. */
  reloads: number;
  /** Why the last reload failed, while the previous version keeps serving. */
  reloadError?: string;
  /** Where the last reload's failure points (file, line, column), when known. */
  reloadErrorLocation?: { file: string; line: number; column: number };
  /** How its code runs: `worker` (isolated) or `in-process` (trusted). */
  isolation?: "worker" | "in-process";
  /** The permissions its manifest declares (an isolated plugin gets exactly these, plus its own folders). */
  permissions?: PluginPermissions;
  /** Times its worker was restarted after a crash. */
  restarts: number;
  /** Contained failures of its code (reported as `system.error`). */
  failures: number;
  /** What a refused new version asks for beyond the active one: `POST /api/plugins/<name>:approve` lets it in. */
  pendingPermissions?: Capabilities;
  /** Events besides its own it declares it emits (`emits` of its manifest). */
  emits?: string[];
}
