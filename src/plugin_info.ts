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
  /** Its MCP tools and prompts (`<plugin>__<name>`) and resource URIs, when it registered any. */
  mcp?: { tools: string[]; resources: string[]; prompts: string[] };
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
  /** How its code runs: `worker` (isolated), `process` (sandboxed, its own process) or `in-process` (trusted). */
  isolation?: "worker" | "process" | "in-process";
  /** A sandboxed plugin's process: its id and the limits the kernel and V8 enforce on it. */
  sandbox?: { pid: number; limits: { memoryMb: number; openFiles: number; cpuSeconds?: number } };
  /** The permissions its manifest declares (an isolated plugin gets exactly these, plus its own folders). */
  permissions?: PluginPermissions;
  /** Times its worker was restarted after a crash. */
  restarts: number;
  /** Contained failures of its code (reported as `system.error`). */
  failures: number;
  /** What a refused new version asks for beyond the active one: `POST /api/plugins/<name>:approve` lets it in. */
  pendingPermissions?: Capabilities;
  /** The content hash (`sha256-...`) of the version waiting for approval: an approval holds for that code only. */
  pendingHash?: string;
  /** Events besides its own it declares it emits (`emits` of its manifest). */
  emits?: string[];
  /** Event names and patterns it listens to (admin API and dashboard). */
  listeners?: string[];
  /** Extension points it defines and those it wraps (admin API and dashboard). */
  hooks?: { defines: string[]; wraps: string[] };
  /** Host-wide middleware it added (admin API and dashboard). */
  middleware?: number;
  /** Response observers it added with `ctx.onResponse` (admin API and dashboard). */
  responseObservers?: number;
  /** Bytes of its data folder on disk (admin API and dashboard). */
  storageBytes?: number;
  /** Crashes of its worker by cause (`hang`, `memory`, `error`, `other`), each followed by a restart or `failed`. */
  restartCauses?: Record<string, number>;
  /** Its memory: a sandboxed plugin's process RSS as the kernel reports it (`ps`), else the heap its worker reported last. */
  memoryBytes?: number;
  /**
   * Timers alive: in-process, those set through `ctx.setTimeout`/`ctx.setInterval`; in a worker or sandboxed, every
   * timer its worker or process holds, as it reported at its last heartbeat (admin API and dashboard).
   */
  timers?: number;
  /** Its last contained failure (route, handler, timer, crash...) or refused reload, with where it points. */
  lastError?: PluginLastError;
  /** Whether its debug lines are written (PLUGBOARD_DEBUG, `observability.debug`, or the dashboard). */
  debug?: boolean;
}

/** A plugin's last failure, as the admin API and the dashboard show it. */
export interface PluginLastError {
  /** What failed: `route`, `event`, `timer`, `worker`, `reload`, ... */
  origin: string;
  /** The error's message. */
  message: string;
  /** When (ISO 8601). */
  at: string;
  /** The file, line and column it points at, when known. */
  location?: { file: string; line: number; column: number };
  /** The stack, when the error had one. */
  stack?: string;
}
