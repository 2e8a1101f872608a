/**
 * The host's Prometheus metrics, through `prom-client`, in a registry of the
 * host's own (several hosts may share a process). Label values are bounded:
 * plugins by name, routes by their pattern (never a raw path), events by
 * name up to {@linkcode MAX_EVENT_NAMES}, then `other`.
 *
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** How many distinct event names get a label of their own; later ones count as `other`. */
export const MAX_EVENT_NAMES = 200;

/** What the collectors read when scraped. */
export interface MetricsSources {
  /** Plugin states, counted. */
  states(): Record<string, number>;
  /** The memory each isolated plugin's worker (or sandboxed plugin's process) uses, in bytes. */
  memory(): Promise<Record<string, number>>;
}

/**
 * The host's metrics.
 *
 * @example Count a request and read the text format
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostMetrics } from "./metrics.ts";
 * const metrics = new HostMetrics({ states: () => ({ active: 1 }), memory: () => Promise.resolve({}) });
 * metrics.request("hello", "/api/plugins/hello/greet/:who", "GET", 200, 3);
 * const text = await metrics.text();
 * assert.match(text, /plugboard_http_requests_total\{plugin="hello",route="\/api\/plugins\/hello\/greet\/:who",method="GET",status="200"\} 1/);
 * ```
 */
export class HostMetrics {
  /** The registry: `text()` renders it. */
  readonly registry: Registry = new Registry();
  #requests: Counter<"plugin" | "route" | "method" | "status">;
  #latency: Histogram<"plugin" | "route">;
  #emitted: Counter<"event">;
  #handlerFailures: Counter<"plugin">;
  #failures: Counter<"plugin" | "origin">;
  #reloads: Counter<"plugin">;
  #reloadFailures: Counter<"plugin">;
  #crashes: Counter<"plugin" | "cause">;
  #eventNames = new Set<string>();
  #emitCounts = new Map<string, number>();
  /** Requests counted on the hot path by a plain key, handed to the counter when scraped. */
  #requestCounts = new Map<string, { labels: Record<"plugin" | "route" | "method" | "status", string>; n: number }>();
  /** The latency histogram's labels by plugin and route, made once. */
  #latencyLabels = new Map<string, Record<"plugin" | "route", string>>();

  /** @param sources what the gauges read when scraped */
  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const requestCounts = this.#requestCounts;
    this.#requests = new Counter({
      name: "plugboard_http_requests_total",
      help: "Requests to plugin routes, by plugin, route pattern, method and status",
      labelNames: ["plugin", "route", "method", "status"],
      registers,
      collect() {
        for (const { labels, n } of requestCounts.values()) this.inc(labels, n);
        requestCounts.clear();
      },
    });
    this.#latency = new Histogram({
      name: "plugboard_http_request_duration_seconds",
      help: "Time from a request reaching the plugin routes to its response headers, by plugin and route pattern",
      labelNames: ["plugin", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const emitCounts = this.#emitCounts;
    this.#emitted = new Counter({
      name: "plugboard_events_emitted_total",
      help: "Events emitted on the host's bus, by name",
      labelNames: ["event"],
      registers,
      collect() {
        // Counted in a plain map on the hot path; handed to the counter when scraped.
        for (const [event, n] of emitCounts) this.inc({ event }, n);
        emitCounts.clear();
      },
    });
    this.#handlerFailures = new Counter({
      name: "plugboard_event_handler_failures_total",
      help: "Event handlers that threw or rejected, by the plugin that owns them",
      labelNames: ["plugin"],
      registers,
    });
    this.#failures = new Counter({
      name: "plugboard_plugin_failures_total",
      help: "Contained failures of plugin code (system.error), by plugin and origin",
      labelNames: ["plugin", "origin"],
      registers,
    });
    this.#reloads = new Counter({
      name: "plugboard_reloads_total",
      help: "Successful reloads, by plugin",
      labelNames: ["plugin"],
      registers,
    });
    this.#reloadFailures = new Counter({
      name: "plugboard_reload_failures_total",
      help: "Refused reloads (the previous version kept serving), by plugin",
      labelNames: ["plugin"],
      registers,
    });
    this.#crashes = new Counter({
      name: "plugboard_restarts_total",
      help: "Crashes of isolated plugins' workers, each followed by a restart or by failed, by plugin and cause",
      labelNames: ["plugin", "cause"],
      registers,
    });
    new Gauge({
      name: "plugboard_plugins",
      help: "Known plugins, by state",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        for (const [state, n] of Object.entries(sources.states())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "plugboard_plugin_memory_bytes",
      help: "Heap (plus external memory) an isolated plugin's worker reported last, by plugin",
      labelNames: ["plugin"],
      registers,
      async collect() {
        const memory = await sources.memory();
        this.reset();
        for (const [plugin, bytes] of Object.entries(memory)) this.set({ plugin }, bytes);
      },
    });
    new Gauge({
      name: "plugboard_process_memory_bytes",
      help: "The host process's memory, by kind (rss, heap_total, heap_used, external)",
      labelNames: ["kind"],
      registers,
      collect() {
        const m = Deno.memoryUsage();
        this.set({ kind: "rss" }, m.rss);
        this.set({ kind: "heap_total" }, m.heapTotal);
        this.set({ kind: "heap_used" }, m.heapUsed);
        this.set({ kind: "external" }, m.external);
      },
    });
    new Gauge({
      name: "plugboard_event_loop_lag_seconds",
      help: "How late a zero-delay timer set at scrape time fired: the host's event-loop lag",
      registers,
      async collect() {
        const started = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 0));
        this.set((performance.now() - started) / 1000);
      },
    });
  }

  /**
   * Counts one answered request to a plugin route.
   *
   * @param plugin the plugin, or `""` when no route matched
   * @param route the route pattern, or `""` when none matched
   * @param method the request's method
   * @param status the response's status
   * @param ms how long it took, in ms
   */
  request(plugin: string, route: string, method: string, status: number, ms: number): void {
    const verb = boundedMethod(method);
    const key = `${plugin}\u0000${route}\u0000${verb}\u0000${status}`;
    const counted = this.#requestCounts.get(key);
    if (counted) counted.n++;
    else {
      const labels = { plugin, route, method: verb, status: String(status) };
      this.#requestCounts.set(key, { labels, n: 1 });
    }
    const where = `${plugin}\u0000${route}`;
    let labels = this.#latencyLabels.get(where);
    if (!labels) this.#latencyLabels.set(where, labels = { plugin, route });
    this.#latency.observe(labels, ms / 1000);
  }

  /**
   * Counts one emitted event.
   *
   * @param event its name
   */
  emitted(event: string): void {
    let name = event;
    if (!this.#eventNames.has(name)) {
      if (this.#eventNames.size >= MAX_EVENT_NAMES) name = "other";
      else this.#eventNames.add(name);
    }
    this.#emitCounts.set(name, (this.#emitCounts.get(name) ?? 0) + 1);
  }

  /**
   * Counts one contained failure.
   *
   * @param plugin whose code failed (`""` when unknown)
   * @param origin what failed: `event` (a handler), `route`, `worker`, ...
   */
  failure(plugin: string, origin: string): void {
    this.#failures.inc({ plugin, origin });
    if (origin === "event") this.#handlerFailures.inc({ plugin });
  }

  /**
   * Counts a reload.
   *
   * @param plugin the plugin
   * @param ok whether the new version went live
   */
  reload(plugin: string, ok: boolean): void {
    (ok ? this.#reloads : this.#reloadFailures).inc({ plugin });
  }

  /**
   * Counts a crash of an isolated plugin's worker.
   *
   * @param plugin the plugin
   * @param cause `hang`, `memory`, `error` or `other`
   */
  crash(plugin: string, cause: string): void {
    this.#crashes.inc({ plugin, cause });
  }

  /**
   * Renders every metric in the Prometheus text format.
   *
   * @returns the exposition text
   */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function boundedMethod(method: string): string {
  return METHODS.has(method) ? method : "other";
}
