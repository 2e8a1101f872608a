/**
 * tasks: the domain the other plugins extend. Provides the `tasks` service,
 * routes to create, list and get tasks, persists tasks in its storage, and
 * executes each task through the `task.execute` extension point (a built-in
 * executor that simulates an agent), emitting `task.created`,
 * `task.updated`, `agent.task.completed` and `task.failed`.
 *
 * Ids are `crypto.randomUUID()` and tasks are inserted with
 * `ctx.storage.add`, so two processes sharing a data folder never overwrite
 * each other. A task left `pending` or `running` by a process that stopped
 * (a crash, `kill -9`, an unload or reload mid-task) is marked `failed` with
 * error `"interrupted"`, emitting `task.failed`; it is not resumed.
 *
 * @module
 */

import { zValidator } from "@hono/zod-validator";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { definePlugin, retryBusy } from "../../plugin.ts";
import type {} from "./events.ts";
import { registerTaskTools } from "./mcp.ts";
import { type NewTask, newTaskSchema, type Task, type TasksService, type TaskStatus } from "./task_model.ts";

/** The error of a task whose process stopped before it finished. */
export const INTERRUPTED = "interrupted";

export default definePlugin({
  name: "tasks",
  version: "1.0.0",
  // Its events are the task system's, not "tasks.*": declared so that it may emit them when isolated.
  emits: ["task.*", "agent.*"],
  provides: { services: ["tasks"], hooks: ["task.execute"] },
  description: "Tasks: create, list, run through task.execute",
  config: z.object({
    agents: z.array(z.string().min(1)).min(1).default(["agent-1", "agent-2"]),
    /** A title containing this word makes the simulated agent fail. */
    failWord: z.string().min(1).default("fail"),
    /** How long the simulated agent works, in ms. */
    workMs: z.number().int().min(0).max(60_000).default(5),
    /**
     * A running process renews its lease every third of this; the unfinished
     * tasks of a process whose lease is older are marked interrupted.
     */
    leaseMs: z.number().int().min(300).default(15_000),
  }),
  async setup(ctx) {
    const { agents, failWord, workMs, leaseMs } = ctx.config;
    /** This process's (and this version's) id, stored on the tasks it runs. */
    const runner = crypto.randomUUID();
    const inFlight = new Set<string>();
    let next = 0;
    const get = (id: string) => ctx.storage.get<Task>(`task:${id}`);

    /** Moves a task on, only from one of the `from` states; returns it, or undefined if it was elsewhere. */
    const transition = (id: string, from: TaskStatus[], changes: Partial<Task>): Task | undefined => {
      const updated = ctx.sql.transaction(() => {
        const current = get(id);
        if (!current || !from.includes(current.status)) return undefined;
        const task = { ...current, ...changes, updatedAt: new Date().toISOString() };
        ctx.storage.set(`task:${id}`, task);
        return task;
      });
      if (updated) ctx.events.emit("task.updated", { taskId: id, status: updated.status, changes });
      return updated;
    };
    const interrupt = (task: Task) => {
      const failed = transition(task.id, ["pending", "running"], { status: "failed", error: INTERRUPTED });
      if (failed) ctx.events.emit("task.failed", { taskId: task.id, error: INTERRUPTED, agentId: task.agentId });
      return failed !== undefined;
    };

    // The lease: `runner:<id>` holds when each live process last renewed it.
    const renew = () => ctx.storage.set(`runner:${runner}`, { at: Date.now() });
    const sweep = () => {
      const now = Date.now();
      const alive = new Set(
        ctx.storage.list<{ at: number }>("runner:").filter((e) => now - e.value.at <= leaseMs).map((e) =>
          e.key.slice(7)
        ),
      );
      alive.add(runner);
      let marked = 0;
      for (const { value: task } of ctx.storage.list<Task>("task:")) {
        if ((task.status === "pending" || task.status === "running") && !alive.has(task.runner ?? "")) {
          if (interrupt(task)) marked++;
        }
      }
      if (marked) ctx.log.warn(`Marked ${marked} unfinished task(s) of stopped processes as failed ("${INTERRUPTED}")`);
    };
    await retryBusy(() => {
      renew();
      sweep();
    });
    ctx.setInterval(() => {
      renew();
      sweep();
    }, Math.floor(leaseMs / 3));
    ctx.onDispose(() => {
      // Their timers are gone with this version: what is still running will not finish.
      for (const id of inFlight) {
        const task = get(id);
        if (task) interrupt(task);
      }
      ctx.storage.delete(`runner:${runner}`);
    });

    ctx.hooks.define("task.execute", async (task) => {
      // The simulated work; cut short when this version ends (its timer goes with it), so whoever waits for the task
      // (?wait=true, the run() service) is answered with it interrupted rather than never.
      await new Promise<void>((resolve, reject) => {
        const cut = () => {
          ctx.clearTimer(timer);
          reject(new Error(INTERRUPTED));
        };
        const timer = ctx.setTimeout(() => {
          ctx.signal.removeEventListener("abort", cut);
          resolve();
        }, workMs);
        ctx.signal.addEventListener("abort", cut, { once: true });
      });
      if (String(task.title).toLowerCase().includes(failWord.toLowerCase())) {
        throw new Error(`Agent could not finish "${task.title}"`);
      }
      return { output: `Done: ${task.title}` };
    });

    /** Runs a stored task; never rejects (a storage failure is logged and the task left to the sweep). */
    const execute = async (task: Task): Promise<Task> => {
      const started = performance.now();
      inFlight.add(task.id);
      try {
        task = await retryBusy(() => transition(task.id, ["pending"], { status: "running" })) ?? task;
        let outcome: { result: unknown } | { error: string };
        try {
          outcome = { result: await ctx.hooks.call("task.execute", { ...task }) };
        } catch (err) {
          outcome = { error: err instanceof Error ? err.message : String(err) };
        }
        const done = await retryBusy(() =>
          transition(
            task.id,
            ["running"],
            "result" in outcome ? { status: "completed", result: outcome.result } : { status: "failed", ...outcome },
          )
        );
        if (!done) return get(task.id) ?? task; // interrupted meanwhile
        task = done;
        if ("result" in outcome) {
          ctx.events.emit("agent.task.completed", {
            taskId: task.id,
            agentId: task.agentId,
            result: outcome.result,
            durationMs: performance.now() - started,
          });
        } else {
          ctx.events.emit("task.failed", { taskId: task.id, error: outcome.error, agentId: task.agentId });
        }
      } catch (err) {
        ctx.log.error(`Task "${task.id}" could not be saved; it stays ${task.status} until marked interrupted`, err);
      } finally {
        inFlight.delete(task.id);
      }
      return task;
    };

    const create = (input: NewTask): { task: Task; done: Promise<Task> } => {
      const now = new Date().toISOString();
      const task: Task = {
        id: crypto.randomUUID(),
        title: input.title,
        agentId: input.agentId ?? agents[next++ % agents.length],
        data: input.data ?? {},
        status: "pending",
        runner,
        createdAt: now,
        updatedAt: now,
      };
      ctx.storage.add(`task:${task.id}`, task);
      ctx.events.emit("task.created", { taskId: task.id, title: task.title, agentId: task.agentId, data: task.data });
      return { task, done: execute(task) };
    };

    const service: TasksService = {
      create: (input) => create(newTaskSchema.parse(input)).task,
      run: (input) => create(newTaskSchema.parse(input)).done,
      get,
      list: () =>
        ctx.storage.list<Task>("task:").map((e) => e.value).sort((a, b) =>
          String(a.createdAt).localeCompare(String(b.createdAt)) || a.id.localeCompare(b.id)
        ),
    };
    ctx.services.provide("tasks", service);
    registerTaskTools(ctx, service);

    const problem = (status: 400 | 404 | 415 | 503, title: string, detail: string, headers: HeadersInit = {}) =>
      new Response(JSON.stringify({ type: "about:blank", status, title, detail }), {
        status,
        headers: { "content-type": "application/problem+json", ...headers },
      });

    /**
     * Reads a body sent without a JSON content type as JSON, so the validator
     * sees it: `fetch` with a string body sends `text/plain`, `curl -d` sends
     * `application/x-www-form-urlencoded`. Other media types are refused with 415.
     */
    const jsonBody: MiddlewareHandler = async (c, next) => {
      const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type === "" || type === "text/plain" || type === "application/x-www-form-urlencoded") {
        const headers = new Headers(c.req.raw.headers);
        headers.set("content-type", "application/json");
        c.req.raw = new Request(c.req.raw, { headers });
      } else if (!/^application\/([\w.-]+\+)?json$/.test(type)) {
        return problem(
          415,
          "Unsupported Media Type",
          `Send the task as JSON (Content-Type: application/json), not ${type}`,
        );
      }
      await next();
    };

    ctx.routes.post(
      "/",
      jsonBody,
      zValidator("json", newTaskSchema, (result) => {
        if (!result.success) {
          const detail = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
          return problem(400, "Bad Request", `${detail}. Send JSON such as {"title": "Summarise the report"}`);
        }
      }),
      async (c) => {
        let created: { task: Task; done: Promise<Task> };
        try {
          created = create(c.req.valid("json"));
        } catch (err) {
          if ((err as { code?: string }).code !== "STORAGE_BUSY") throw err;
          const retryAfter = String((err as { retryAfter?: number }).retryAfter ?? 1);
          return problem(503, "Service Unavailable", (err as Error).message, { "retry-after": retryAfter });
        }
        // ?wait=true answers once the task completed or failed.
        return c.json(c.req.query("wait") === "true" ? await created.done : created.task, 201);
      },
    );
    ctx.routes.get("/", (c) => c.json({ tasks: service.list() }));
    ctx.routes.get("/:id", (c) => {
      const task = get(c.req.param("id"));
      return task ? c.json(task) : problem(404, "Not Found", `No task "${c.req.param("id")}"`);
    });
  },
});
