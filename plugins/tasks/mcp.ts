/**
 * The task system for MCP clients: the tools `tasks__create_task`,
 * `tasks__get_task` and `tasks__list_tasks`, and `agent.chat.started` /
 * `agent.chat.completed` for each MCP session (an MCP client is an agent
 * chatting with the system).
 *
 * @module
 */

import { z } from "zod";
import type { PluginContext } from "../../plugin.ts";
import type {} from "./events.ts";
import { newTaskSchema, type Task, type TasksService } from "./task_model.ts";

const STATUSES = ["pending", "running", "completed", "failed"] as const;

/**
 * Registers the task tools and the chat events.
 *
 * @param ctx the tasks plugin's context
 * @param service its service
 */
export function registerTaskTools(ctx: Pick<PluginContext, "mcp" | "events">, service: TasksService): void {
  const asData = (task: Task) => task as unknown as Record<string, unknown>;
  ctx.mcp.tool("create_task", {
    description: "Creates a task that an agent runs. With wait: true, answers once it completed (with its result) " +
      "or failed (with its error); otherwise at once, while it is pending",
    input: newTaskSchema.extend({
      wait: z.boolean().default(false).describe("Wait until the task completed or failed"),
    }),
    annotations: { title: "Create a task", destructiveHint: false, openWorldHint: false },
  }, async ({ wait, ...input }) => asData(wait ? await service.run(input) : service.create(input)));
  ctx.mcp.tool("get_task", {
    description: "One task by id: its title, agent, status, and its result or error once done",
    input: z.object({ id: z.string().min(1).describe("The task's id, as create_task or list_tasks gave it") }),
    annotations: { title: "Get a task", readOnlyHint: true, openWorldHint: false },
  }, ({ id }) => {
    const task = service.get(id);
    if (!task) throw new Error(`No task "${id}": list the tasks with tasks__list_tasks`);
    return asData(task);
  });
  ctx.mcp.tool("list_tasks", {
    description: "The most recent tasks, oldest first, optionally only those in one status",
    input: z.object({
      status: z.enum(STATUSES).optional().describe("Only tasks in this status"),
      limit: z.number().int().min(1).max(500).default(50).describe("At most this many (the most recent)"),
    }),
    annotations: { title: "List tasks", readOnlyHint: true, openWorldHint: false },
  }, ({ status, limit }) => {
    const tasks = service.list().filter((t) => !status || t.status === status);
    return { tasks: tasks.slice(-limit), total: tasks.length };
  });
  ctx.events.on("mcp.session.opened", (e) => {
    ctx.events.emit("agent.chat.started", { chatId: e.sessionId, agentId: e.client ?? "mcp-client" });
  });
  ctx.events.on("mcp.session.closed", (e) => {
    ctx.events.emit("agent.chat.completed", {
      chatId: e.sessionId,
      agentId: e.client ?? "mcp-client",
      messages: e.calls,
    });
  });
}
