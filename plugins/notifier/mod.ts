/**
 * notifier: on `task.failed`, POSTs a JSON alert to a webhook. Delivery runs
 * off the event bus (it never blocks other handlers), with a timeout per
 * attempt and retries with exponential backoff. An alert that still cannot be
 * delivered is logged, counted, and kept in storage (`failed:<id>`), never
 * dropped silently. `GET /api/plugins/notifier/stats`.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../plugin.ts";
import type {} from "../tasks/events.ts";

/** What the webhook receives. */
export interface Alert {
  id: string;
  type: "task.failed";
  taskId: string;
  agentId?: string;
  error: string;
  at: string;
}

export default definePlugin({
  name: "notifier",
  provides: { services: ["notifier"] },
  version: "1.0.0",
  // Isolated, it may reach webhooks on this machine; for another host the operator adds
  // "grants": { "notifier": { "net": ["hooks.example.com"] } } to plugboard.json.
  permissions: { net: ["127.0.0.1", "localhost"] },
  description: "Webhook alerts for failed tasks",
  config: z.object({
    url: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().min(1).max(60_000).default(2000),
    retries: z.number().int().min(0).max(10).default(3),
    backoffMs: z.number().int().min(0).max(60_000).default(200),
  }),
  setup(ctx) {
    const { url, timeoutMs, retries, backoffMs } = ctx.config;
    const stats = { sent: 0, failed: 0, retried: 0, pending: 0 };
    let next = 0;
    const sleep = (ms: number) => new Promise<void>((resolve) => ctx.setTimeout(resolve, ms));

    const deliver = async (alert: Alert) => {
      stats.pending++;
      let lastError = "";
      try {
        for (let attempt = 0; attempt <= retries; attempt++) {
          if (ctx.signal.aborted) break;
          if (attempt > 0) {
            stats.retried++;
            await sleep(backoffMs * 2 ** (attempt - 1));
          }
          try {
            const res = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(alert),
              signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
            });
            await res.body?.cancel();
            if (res.ok) {
              stats.sent++;
              return;
            }
            lastError = `HTTP ${res.status}`;
          } catch (err) {
            lastError = (err as Error).name === "TimeoutError"
              ? `timed out after ${timeoutMs} ms`
              : String((err as Error).message ?? err);
          }
        }
        stats.failed++;
        ctx.storage.set(`failed:${alert.id}`, { alert, error: lastError });
        ctx.log.error(`Alert ${alert.id} for task ${alert.taskId} not delivered to ${url}: ${lastError}`);
      } finally {
        stats.pending--;
      }
    };

    ctx.events.on("task.failed", ({ taskId, agentId, error }) => {
      const alert: Alert = {
        id: `a-${Date.now().toString(36)}-${next++}`,
        type: "task.failed",
        taskId,
        agentId,
        error,
        at: new Date().toISOString(),
      };
      void deliver(alert);
    });
    ctx.services.provide("notifier", {
      stats: () => ({ ...stats }),
      undelivered: () => ctx.storage.list<{ alert: Alert; error: string }>("failed:").map((e) => e.value),
    });
    ctx.routes.get("/stats", (c) => c.json({ ...stats, undelivered: ctx.storage.list("failed:").length }));
  },
});
