/**
 * analytics: host-wide request tracking (endpoint, duration, status) through
 * middleware, and counts of every `task.*` event. The figures are kept in
 * memory, handed over on reload, and written to storage every few seconds
 * and on unload, so they survive restarts. `GET /api/plugins/analytics/stats`.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../mod.ts";
import type {} from "../tasks/events.ts";

/** Figures for one endpoint (`METHOD /path`). */
export interface EndpointStats {
  count: number;
  totalMs: number;
  maxMs: number;
  statuses: Record<string, number>;
}

/** Everything analytics keeps. */
export interface AnalyticsState {
  requests: Record<string, EndpointStats>;
  events: Record<string, number>;
}

export default definePlugin({
  name: "analytics",
  version: "1.0.0",
  description: "Request and task-event statistics",
  config: z.object({ flushEveryMs: z.number().int().min(100).default(2000) }),
  setup(ctx) {
    const state: AnalyticsState = (ctx.previous as AnalyticsState | undefined) ??
      ctx.storage.get<AnalyticsState>("state") ?? { requests: {}, events: {} };
    let dirty = false;
    const flush = () => {
      if (!dirty) return;
      ctx.storage.set("state", state);
      dirty = false;
    };
    ctx.onHandover(() => state);
    ctx.setInterval(flush, ctx.config.flushEveryMs);
    ctx.onDispose(flush);

    ctx.middleware(async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        const ms = performance.now() - started;
        const key = `${c.req.method} ${c.req.path}`;
        const s = state.requests[key] ??= { count: 0, totalMs: 0, maxMs: 0, statuses: {} };
        s.count++;
        s.totalMs += ms;
        s.maxMs = Math.max(s.maxMs, ms);
        const status = String(c.res?.status ?? 500);
        s.statuses[status] = (s.statuses[status] ?? 0) + 1;
        dirty = true;
      }
    });
    ctx.events.on("task.*", (_payload, name) => {
      state.events[name] = (state.events[name] ?? 0) + 1;
      dirty = true;
    });
    ctx.events.on("agent.task.completed", (_payload, name) => {
      state.events[name] = (state.events[name] ?? 0) + 1;
      dirty = true;
    });

    ctx.services.provide("analytics", { snapshot: (): AnalyticsState => structuredClone(state) });
    ctx.routes.get("/stats", (c) => {
      const requests = Object.fromEntries(
        Object.entries(state.requests).map(([k, s]) => [k, { ...s, avgMs: s.totalMs / s.count }]),
      );
      const total = Object.values(state.requests).reduce((n, s) => n + s.count, 0);
      return c.json({ requests: { total, byEndpoint: requests }, events: state.events });
    });
  },
});
