/**
 * analytics: request tracking for every plugin route (route pattern,
 * duration, status) through a response observer (`ctx.onResponse`), and
 * counts of every `task.*` event.
 *
 * Requests are counted by route pattern (such as `GET /api/plugins/tasks/:id`),
 * never by raw path; durations are whole milliseconds (see `ResponseRecord.ms`),
 * so `maxMs` is exact to a millisecond and `totalMs / count` averages right over
 * many requests. Requests that matched no route count under
 * `(unmatched)`; the host's own endpoints (`/health`, the admin API) are not
 * counted. Once `maxSeries` patterns are known,
 * further ones count under `(other)`, so memory and the stored state stay
 * bounded whatever clients send. The figures live in memory, are handed over
 * on reload, and are written to storage every `flushEveryMs` and on unload: a
 * crash (`kill -9`) loses at most the last `flushEveryMs` of counts.
 * `GET /api/plugins/analytics/stats`.
 *
 * @module
 */

import { z } from "zod";
import { definePlugin } from "../../plugin.ts";
import type {} from "../tasks/events.ts";

/** Figures for one series (`METHOD /route/pattern`). */
export interface EndpointStats {
  count: number;
  totalMs: number;
  maxMs: number;
  statuses: Record<string, number>;
}

/** Everything analytics keeps, as stored and handed over. */
export interface AnalyticsState {
  requests: Record<string, EndpointStats>;
  events: Record<string, number>;
}

/** The series of requests that matched no route. */
export const UNMATCHED = "(unmatched)";
/** The series that collects patterns beyond `maxSeries`. */
export const OTHER = "(other)";

/** One series in memory: statuses by number, so counting allocates nothing. */
interface Series {
  count: number;
  totalMs: number;
  maxMs: number;
  statuses: Map<number, number>;
}

/**
 * Request figures by method then route pattern, bounded to `max` series.
 *
 * @example Count two requests of one route
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestStats } from "./mod.ts";
 * const stats = new RequestStats(10);
 * stats.record("GET", "/api/items/:id", 200, 1.5);
 * stats.record("GET", "/api/items/:id", 404, 0.5);
 * assert.deepEqual(stats.toJSON()["GET /api/items/:id"], { count: 2, totalMs: 2, maxMs: 1.5, statuses: { 200: 1, 404: 1 } });
 * ```
 */
export class RequestStats {
  #byMethod = new Map<string, Map<string, Series>>();
  #size = 0;
  #max: number;

  /** @param max the most series kept; later patterns count under `(other)` */
  constructor(max: number) {
    this.#max = max;
  }

  /** How many series are kept. */
  get size(): number {
    return this.#size;
  }

  /**
   * Counts one request.
   *
   * @param method the HTTP method
   * @param route the route pattern (or `(unmatched)`)
   * @param status the response status
   * @param ms how long it took
   */
  record(method: string, route: string, status: number, ms: number): void {
    const routes = this.#byMethod.get(method);
    let s = routes?.get(route);
    if (s === undefined) s = this.#add(method, route, routes);
    s.count++;
    s.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
  }

  #add(method: string, route: string, routes: Map<string, Series> | undefined): Series {
    if (this.#size >= this.#max) {
      method = "*";
      route = OTHER;
      routes = this.#byMethod.get(method);
      const other = routes?.get(route);
      if (other) return other;
    }
    if (!routes) this.#byMethod.set(method, routes = new Map());
    const s: Series = { count: 0, totalMs: 0, maxMs: 0, statuses: new Map() };
    routes.set(route, s);
    if (route !== OTHER) this.#size++;
    return s;
  }

  /**
   * Adds stored figures (from storage or a previous version).
   *
   * @param requests figures by `METHOD pattern`
   */
  load(requests: Record<string, EndpointStats>): void {
    for (const [key, e] of Object.entries(requests)) {
      const space = key.indexOf(" ");
      const method = space > 0 ? key.slice(0, space) : "*";
      const route = space > 0 ? key.slice(space + 1) : key;
      let s = this.#byMethod.get(method)?.get(route);
      if (s === undefined) s = this.#add(method, route, this.#byMethod.get(method));
      s.count += e.count;
      s.totalMs += e.totalMs;
      s.maxMs = Math.max(s.maxMs, e.maxMs);
      for (const [status, n] of Object.entries(e.statuses)) {
        s.statuses.set(Number(status), (s.statuses.get(Number(status)) ?? 0) + n);
      }
    }
  }

  /** @returns the figures by `METHOD pattern` */
  toJSON(): Record<string, EndpointStats> {
    const out: Record<string, EndpointStats> = {};
    for (const [method, routes] of this.#byMethod) {
      for (const [route, s] of routes) {
        out[`${method} ${route}`] = {
          count: s.count,
          totalMs: s.totalMs,
          maxMs: s.maxMs,
          statuses: Object.fromEntries(s.statuses),
        };
      }
    }
    return out;
  }
}

export default definePlugin({
  name: "analytics",
  version: "1.0.0",
  provides: { services: ["analytics"] },
  // It records every plugin's requests, not only its own routes': the operator sees that in the startup table.
  permissions: { hostWide: ["responses"] },
  description: "Request and task-event statistics",
  config: z.object({
    /** How often the figures are written to storage, in ms: what a crash can lose. */
    flushEveryMs: z.number().int().min(100).default(2000),
    /** The most request series (method and route pattern) kept; later ones count under `(other)`. */
    maxSeries: z.number().int().min(1).max(10_000).default(500),
  }),
  setup(ctx) {
    const stored = (ctx.previous as AnalyticsState | undefined) ?? ctx.storage.get<AnalyticsState>("state");
    const requests = new RequestStats(ctx.config.maxSeries);
    const events: Record<string, number> = { ...stored?.events };
    if (stored?.requests) requests.load(stored.requests);
    const snapshot = (): AnalyticsState => ({ requests: requests.toJSON(), events: { ...events } });
    let dirty = false;
    const flush = () => {
      if (!dirty) return;
      dirty = false;
      try {
        ctx.storage.set("state", snapshot());
      } catch (err) {
        dirty = true; // kept in memory; the next flush tries again
        throw err;
      }
    };
    ctx.onHandover(snapshot);
    ctx.setInterval(flush, ctx.config.flushEveryMs);
    ctx.onDispose(flush);

    // An observer, not middleware: it is told about each answered request and stays out of the request's path.
    ctx.onResponse((r) => {
      requests.record(r.method, r.route ?? UNMATCHED, r.status, r.ms);
      dirty = true;
    });
    const count = (_payload: unknown, name: string) => {
      events[name] = (events[name] ?? 0) + 1;
      dirty = true;
    };
    ctx.events.on("task.*", count);
    ctx.events.on("agent.task.completed", count);

    ctx.services.provide("analytics", { snapshot });
    const stats = () => {
      const byEndpoint: Record<string, EndpointStats & { avgMs: number }> = {};
      let total = 0;
      for (const [key, s] of Object.entries(requests.toJSON())) {
        byEndpoint[key] = { ...s, avgMs: s.totalMs / s.count };
        total += s.count;
      }
      return { requests: { total, series: requests.size, byEndpoint }, events };
    };
    ctx.routes.get("/stats", (c) => c.json(stats()));
    // For MCP clients: plugboard://analytics/stats, the same JSON as the route.
    ctx.mcp.resource("stats", {
      title: "Request and event counts",
      description: "Requests per plugin route (count, statuses, average and longest time) and task events seen",
      mimeType: "application/json",
    }, () => stats());
  },
});
