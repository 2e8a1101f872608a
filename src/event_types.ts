/**
 * The events the core knows by name, with their payload types: `system.error`
 * and the `plugin.*` lifecycle events. Plugins add their own by augmenting
 * {@linkcode PlugboardEvents} (see `plugins/tasks/events.ts`).
 *
 * @module
 */

/** Where a `system.error` came from. */
export type ErrorOrigin =
  | "event"
  | "route"
  | "middleware"
  | "observer"
  | "setup"
  | "dispose"
  | "timer"
  | "hook"
  | "worker"
  | "unhandled";

/** Payload of `system.error`: a failure that was contained. */
export interface SystemErrorEvent {
  /** What failed. */
  origin: ErrorOrigin;
  /** The plugin whose code failed, when known. */
  plugin?: string;
  /** The event being dispatched, for `origin: "event"`. */
  event?: string;
  /** A one-line description. */
  message: string;
  /** The thrown value. */
  error: unknown;
}

/** Payload of the plugin lifecycle events. */
export interface PluginLifecycleEvent {
  name: string;
  version?: string;
  source: string;
  /** Milliseconds the step took, where measured. */
  durationMs?: number;
  /** Why it failed, for `plugin.failed` and `plugin.reload_failed`. */
  error?: string;
  /** Where the failure points (file, line, column), when it points somewhere. */
  location?: { file: string; line: number; column: number };
}

/**
 * Every typed event. A plugin types its own events by augmenting this
 * interface from the module that declares them (the way
 * `plugins/tasks/events.ts` adds `task.*` and `agent.*`); whoever imports
 * that module gets them typed on the host's bus and on `ctx.events`:
 *
 * ```ts ignore
 * declare module "../../mod.ts" {
 *   interface PlugboardEvents {
 *     "invoice.paid": { id: string };
 *   }
 * }
 * ```
 *
 * @example A bus typed with the core's events and one more
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventBus, type PlugboardEvents } from "../mod.ts";
 * type MyEvents = PlugboardEvents & { "invoice.paid": { id: string } };
 * const bus = new EventBus<MyEvents>();
 * let paid = "";
 * bus.on("invoice.paid", (e) => paid = e.id);
 * bus.emit("invoice.paid", { id: "i1" });
 * assert.equal(paid, "i1");
 * ```
 */
export interface PlugboardEvents {
  "system.error": SystemErrorEvent;
  "plugin.discovered": PluginLifecycleEvent;
  "plugin.loading": PluginLifecycleEvent;
  "plugin.loaded": PluginLifecycleEvent;
  "plugin.failed": PluginLifecycleEvent;
  "plugin.unloading": PluginLifecycleEvent;
  "plugin.unloaded": PluginLifecycleEvent;
  "plugin.reloaded": PluginLifecycleEvent;
  "plugin.reload_failed": PluginLifecycleEvent;
}
