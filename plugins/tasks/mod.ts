/**
 * tasks: the domain the other plugins extend. Provides the `tasks` service,
 * routes to create, list and get tasks, persists tasks in its storage, and
 * executes each task through the `task.execute` extension point (a built-in
 * executor that simulates an agent), emitting `task.created`,
 * `task.updated`, `agent.task.completed` and `task.failed`.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../mod.ts";
import type {} from "./events.ts";
import { type NewTask, newTaskSchema, type Task, type TasksService } from "./task_model.ts";

export default definePlugin({
  name: "tasks",
  version: "1.0.0",
  description: "Tasks: create, list, run through task.execute",
  config: z.object({
    agents: z.array(z.string().min(1)).min(1).default(["agent-1", "agent-2"]),
    /** A title containing this word makes the simulated agent fail. */
    failWord: z.string().min(1).default("fail"),
    /** How long the simulated agent works, in ms. */
    workMs: z.number().int().min(0).max(60_000).default(5),
  }),
  setup(ctx) {
    const { agents, failWord, workMs } = ctx.config;
    let next = 0;
    const save = (task: Task) => ctx.storage.set(`task:${task.id}`, task);
    const get = (id: string) => ctx.storage.get<Task>(`task:${id}`);
    const patch = (task: Task, changes: Partial<Task>): Task => {
      const updated = { ...task, ...changes, updatedAt: new Date().toISOString() };
      save(updated);
      ctx.events.emit("task.updated", { taskId: task.id, status: updated.status, changes });
      return updated;
    };

    ctx.hooks.define("task.execute", async (task) => {
      await new Promise((resolve) => ctx.setTimeout(() => resolve(undefined), workMs));
      if (String(task.title).toLowerCase().includes(failWord)) {
        throw new Error(`Agent could not finish "${task.title}"`);
      }
      return { output: `Done: ${task.title}` };
    });

    const execute = async (task: Task): Promise<Task> => {
      const started = performance.now();
      task = patch(task, { status: "running" });
      try {
        const result = await ctx.hooks.call("task.execute", { ...task });
        task = patch(task, { status: "completed", result });
        ctx.events.emit("agent.task.completed", {
          taskId: task.id,
          agentId: task.agentId,
          result,
          durationMs: performance.now() - started,
        });
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        task = patch(task, { status: "failed", error });
        ctx.events.emit("task.failed", { taskId: task.id, error, agentId: task.agentId });
      }
      return task;
    };

    const create = (input: NewTask): { task: Task; done: Promise<Task> } => {
      const now = new Date().toISOString();
      const task: Task = {
        id: `t-${Date.now().toString(36)}-${(next++).toString(36)}`,
        title: input.title,
        agentId: input.agentId ?? agents[next % agents.length],
        data: input.data ?? {},
        status: "pending",
        createdAt: now,
        updatedAt: now,
      };
      save(task);
      ctx.events.emit("task.created", { taskId: task.id, title: task.title, agentId: task.agentId, data: task.data });
      return { task, done: execute(task) };
    };

    const service: TasksService = {
      create: (input) => create(newTaskSchema.parse(input)).task,
      run: (input) => create(newTaskSchema.parse(input)).done,
      get,
      list: () =>
        ctx.storage.list<Task>("task:").map((e) => e.value).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    };
    ctx.services.provide("tasks", service);

    const problem = (status: 400 | 404, detail: string) =>
      new Response(
        JSON.stringify({ type: "about:blank", status, title: status === 400 ? "Bad Request" : "Not Found", detail }),
        {
          status,
          headers: { "content-type": "application/problem+json" },
        },
      );

    ctx.routes.post("/", async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return problem(400, 'The body must be JSON such as {"title": "Summarise the report"}');
      }
      const parsed = newTaskSchema.safeParse(body);
      if (!parsed.success) {
        return problem(400, parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
      }
      const { task, done } = create(parsed.data);
      // ?wait=true answers once the task completed or failed.
      return c.json(c.req.query("wait") === "true" ? await done : task, 201);
    });
    ctx.routes.get("/", (c) => c.json({ tasks: service.list() }));
    ctx.routes.get("/:id", (c) => {
      const task = get(c.req.param("id"));
      return task ? c.json(task) : problem(404, `No task "${c.req.param("id")}"`);
    });
  },
});
