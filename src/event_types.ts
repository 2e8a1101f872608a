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
  | "unhandled"
  | "tool";

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
  /** The id the client was given in the `500` answer, for a route or middleware that failed. */
  errorId?: string;
  /** The thrown value. */
  error: unknown;
}

/** Payload of the plugin lifecycle events. */
export interface PluginLifecycleEvent {
  /** The plugin's name (before its manifest is read, the name it is shown under). */
  name: string;
  /** Its manifest's `version`, once the manifest has been read. */
  version?: string;
  /** The path or URL it is loaded from. */
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
  /** A failure the host contained (a throwing handler, route, timer, ...) instead of letting it spread. */
  "system.error": SystemErrorEvent;
  /** The host started tracking a plugin (state `discovered`). */
  "plugin.discovered": PluginLifecycleEvent;
  /** A plugin started loading (state `loading`). */
  "plugin.loading": PluginLifecycleEvent;
  /** A plugin finished loading and is active; `durationMs` is the whole load. */
  "plugin.loaded": PluginLifecycleEvent;
  /** A plugin failed to load, or failed while active; `error` says why. */
  "plugin.failed": PluginLifecycleEvent;
  /** A plugin started unloading (state `unloading`). */
  "plugin.unloading": PluginLifecycleEvent;
  /** A plugin finished unloading (state `unloaded`). */
  "plugin.unloaded": PluginLifecycleEvent;
  /** A new version of a plugin was swapped in; `durationMs` is the whole reload. */
  "plugin.reloaded": PluginLifecycleEvent;
  /** A reload was refused and the previous version keeps serving; `error` says why. */
  "plugin.reload_failed": PluginLifecycleEvent;
  /** An MCP client finished initializing a session. */
  "mcp.session.opened": McpSessionEvent;
  /** An MCP session ended (the client closed it, it was idle too long, or the host stopped). */
  "mcp.session.closed": McpSessionEvent;
}

/** Payload of `mcp.session.opened` and `mcp.session.closed`. */
export interface McpSessionEvent {
  /** The session's id (`stdio` for the stdio entry). */
  sessionId: string;
  /** The client's name, as it introduced itself. */
  client?: string;
  /** How it is connected. */
  transport: "http" | "stdio";
  /** Tool, resource and prompt calls it made, on `mcp.session.closed`. */
  calls?: number;
}
