/**
 * task-tracker: tracks completions per agent per day, in its own table.
 * Depends on `tasks`. Its table is `completions` in its own database
 * (`data/plugins/task-tracker/storage.db`). Service `task-tracker` (`trackCompletion`,
 * `getStatistics`) and `GET /api/plugins/task-tracker/stats`.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin, retryBusy } from "../../plugin.ts";
import type {} from "../tasks/events.ts";

/** Completions per agent per day. */
export interface TrackerStatistics {
  total: number;
  byAgent: Record<string, { total: number; byDay: Record<string, number> }>;
}

/** The `task-tracker` service. */
export interface TaskTrackerService {
  trackCompletion(taskId: string, agentId: string, at?: Date): void;
  getStatistics(): TrackerStatistics;
}

export default definePlugin({
  name: "task-tracker",
  provides: { services: ["task-tracker"] },
  version: "1.0.0",
  description: "Completions per agent per day",
  dependencies: { tasks: "^1.0.0" },
  config: z.object({ retention: z.number().int().min(1).default(7) }),
  async setup(ctx) {
    // Another process starting at the same time may hold the write lock for a moment: wait without blocking.
    await retryBusy(() =>
      ctx.sql.migrate([
        {
          version: 1,
          up: `CREATE TABLE {{completions}} (
          task_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, day TEXT NOT NULL, completed_at TEXT NOT NULL);
          CREATE INDEX {{completions_by_day}} ON {{completions}} (day);`,
        },
      ])
    );
    /** The first day (UTC) inside the retention window. */
    const firstDay = () => new Date(Date.now() - ctx.config.retention * 86_400_000).toISOString().slice(0, 10);
    const prune = () => ctx.sql.run("DELETE FROM {{completions}} WHERE day < ?", firstDay());
    prune();
    ctx.setInterval(prune, 3_600_000);

    const service: TaskTrackerService = {
      trackCompletion(taskId, agentId, at = new Date()) {
        ctx.sql.run(
          "INSERT OR REPLACE INTO {{completions}} (task_id, agent_id, day, completed_at) VALUES (?, ?, ?, ?)",
          taskId,
          agentId,
          at.toISOString().slice(0, 10),
          at.toISOString(),
        );
      },
      getStatistics() {
        const rows = ctx.sql.all<{ agent_id: string; day: string; n: number }>(
          // The window, whether or not the hourly prune has run since a day left it.
          "SELECT agent_id, day, COUNT(*) AS n FROM {{completions}} WHERE day >= ? GROUP BY agent_id, day " +
            "ORDER BY agent_id, day",
          firstDay(),
        );
        const stats: TrackerStatistics = { total: 0, byAgent: {} };
        for (const r of rows) {
          const agent = stats.byAgent[r.agent_id] ??= { total: 0, byDay: {} };
          agent.byDay[r.day] = r.n;
          agent.total += r.n;
          stats.total += r.n;
        }
        return stats;
      },
    };
    ctx.events.on("agent.task.completed", ({ taskId, agentId }) => service.trackCompletion(taskId, agentId));
    ctx.services.provide("task-tracker", service);
    ctx.routes.get("/stats", (c) => c.json(service.getStatistics()));
    ctx.mcp.tool("get_statistics", {
      description: "Completed tasks per agent and per day (UTC), over the retention window: use it to see who did what",
      input: z.object({}),
      annotations: { title: "Task statistics", readOnlyHint: true, openWorldHint: false },
    }, () => service.getStatistics() as unknown as Record<string, unknown>);
  },
});
