/**
 * The task domain's events and extension point: the payloads of `task.*` and
 * `agent.*` events, and the `task.execute` hook. The core knows none of them;
 * this module adds them to {@linkcode PlugboardEvents} and
 * {@linkcode PlugboardHooks} by module augmentation, so any plugin (or test)
 * that imports it gets them typed on `ctx.events`, `ctx.hooks`, the host's
 * bus and its hook registry.
 *
 * @example Emit a typed task event
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TaskCreatedEvent } from "./events.ts";
 * import { EventBus } from "../../mod.ts";
 * const bus = new EventBus();
 * let seen: TaskCreatedEvent | undefined;
 * bus.on("task.created", (e) => seen = e);
 * bus.emit("task.created", { taskId: "t1", title: "Write docs" });
 * assert.equal(seen?.taskId, "t1");
 * ```
 *
 * @module
 */

import type {} from "../../src/event_types.ts";
import type {} from "../../src/hooks.ts";

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

/** What `task.execute` receives: a task with at least an id. */
export interface ExecutableTask {
  id: string;
  [key: string]: unknown;
}

declare module "../../src/event_types.ts" {
  interface PlugboardEvents {
    "task.created": TaskCreatedEvent;
    "task.updated": TaskUpdatedEvent;
    "task.failed": TaskFailedEvent;
    "agent.task.completed": AgentTaskCompletedEvent;
    "agent.chat.started": AgentChatEvent;
    "agent.chat.completed": AgentChatEvent;
  }
}

declare module "../../src/hooks.ts" {
  interface PlugboardHooks {
    /** Runs a task; the tasks plugin defines it, enhancers wrap it. */
    "task.execute": (task: ExecutableTask) => Promise<unknown>;
  }
}
