/**
 * The events plugboard knows by name, with their payload types. Plugins add
 * their own by augmenting {@linkcode PlugboardEvents}.
 *
 * @module
 */

/** Where a `system.error` came from. */
export type ErrorOrigin =
  | "event"
  | "route"
  | "middleware"
  | "setup"
  | "dispose"
  | "timer"
  | "hook"
  | "worker"
  | "unhandled";

/** Payload of `task.created`. */
export interface TaskCreatedEvent {
  taskId: string;
  title?: string;
  agentId?: string;
  data?: Record<string, unknown>;
}

/** Payload of `task.updated`. */
export interface TaskUpdatedEvent {
  taskId: string;
  status?: string;
  changes?: Record<string, unknown>;
}

/** Payload of `task.failed`. */
export interface TaskFailedEvent {
  taskId: string;
  error: string;
  agentId?: string;
}

/** Payload of `agent.task.completed`. */
export interface AgentTaskCompletedEvent {
  taskId: string;
  agentId: string;
  result?: unknown;
  durationMs?: number;
}

/** Payload of `agent.chat.started` and `agent.chat.completed`. */
export interface AgentChatEvent {
  chatId: string;
  agentId: string;
  messages?: number;
}

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
 * Every typed event. Augment it to type your plugin's own events:
 *
 * @example Add a plugin event
 * ```ts
 * import { EventBus, type PlugboardEvents } from "../mod.ts";
 * type MyEvents = PlugboardEvents & { "invoice.paid": { id: string } };
 * const bus = new EventBus<MyEvents>();
 * bus.emit("invoice.paid", { id: "i1" });
 * ```
 */
export interface PlugboardEvents {
  "task.created": TaskCreatedEvent;
  "task.updated": TaskUpdatedEvent;
  "task.failed": TaskFailedEvent;
  "agent.task.completed": AgentTaskCompletedEvent;
  "agent.chat.started": AgentChatEvent;
  "agent.chat.completed": AgentChatEvent;
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
