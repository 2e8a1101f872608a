/**
 * The host's Prometheus metrics, through `prom-client`, in a registry of the
 * host's own (several hosts may share a process). Label values are bounded:
 * plugins by name, routes by their pattern (never a raw path), events by
 * name up to {@linkcode MAX_EVENT_NAMES}, then `other`.
 *
 * @module
 */

import { Counter, Gauge, type Metric, Registry } from "prom-client";
import { LATENCY_BOUNDS, RouteSeries } from "./route_series.ts";

/** How many distinct event names get a label of their own; later ones count as `other`. */
export const MAX_EVENT_NAMES = 200;

/** How many route patterns of one plugin get series of their own; its later ones count under route `other`. */
export const MAX_ROUTE_SERIES = 1000;

/** The key of a plugin's series past {@linkcode MAX_ROUTE_SERIES} (no route pattern starts with a NUL). */
const overflowKey = (plugin: string) => `\u0000other\u0000${plugin}`;

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
 * metrics.series("hello", "/api/plugins/hello/greet/:who").observe("GET", 200, 3);
 * const text = await metrics.text();
 * assert.match(text, /plugboard_http_requests_total\{plugin="hello",route="\/api\/plugins\/hello\/greet\/:who",method="GET",status="200"\} 1/);
 * ```
 */
export class HostMetrics {
  /** The registry: `text()` renders it. */
  readonly registry: Registry = new Registry();
  #emitted: Counter<"event" | "plugin">;
  #handlerFailures: Counter<"plugin">;
  #failures: Counter<"plugin" | "origin">;
  #reloads: Counter<"plugin">;
  #reloadFailures: Counter<"plugin">;
  #crashes: Counter<"plugin" | "cause">;
  #eventNames = new Set<string>();
  /** Emits counted on the hot path, by emitting plugin (`""`: the host or an application), then by event name. */
  #emitCounts = new Map<string, Map<string, number>>();
  /** Each route pattern's requests, counted on the hot path and rendered when scraped. */
  #series = new Map<string, RouteSeries>();
  /** How many patterns each plugin has a series for. */
  #perPlugin = new Map<string, number>();
  #generation = 0;
  /** The labels each plugin's counters were given, so that its series can be dropped when it is unloaded. */
  #labelsOf = new Map<string, { events: Set<string>; origins: Set<string>; causes: Set<string> }>();

  /** @param sources what the gauges read when scraped */
  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const series = this.#series;
    const reset = () => (series.clear(), this.#perPlugin.clear(), this.#generation++);
    this.registry.registerMetric(requestsMetric(series, reset));
    this.registry.registerMetric(latencyMetric(series, reset));
    const emitCounts = this.#emitCounts;
    const labelsOf = (plugin: string) => this.#labels(plugin);
    this.#emitted = new Counter({
      name: "plugboard_events_emitted_total",
      help: 'Events emitted on the host\'s bus, by name and emitting plugin ("" for the host or the application)',
      labelNames: ["event", "plugin"],
      registers,
      collect() {
        // Counted in plain maps on the hot path; handed to the counter when scraped.
        for (const [plugin, counts] of emitCounts) {
          const events = plugin === "" ? undefined : labelsOf(plugin).events;
          for (const [event, n] of counts) {
            this.inc({ event, plugin }, n);
            events?.add(event);
          }
        }
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
   * The series of one route pattern's requests, made on first use: the
   * request path keeps it and counts into it.
   *
   * @param plugin the plugin whose route it is (`""` when no route matched)
   * @param route the route pattern (`""` when no route matched)
   * @returns the series (past {@linkcode MAX_ROUTE_SERIES} patterns of one plugin, one shared by its later ones:
   *   route `other`)
   */
  series(plugin: string, route: string): RouteSeries {
    let found = this.#series.get(route);
    if (found === undefined) {
      const held = this.#perPlugin.get(plugin) ?? 0;
      if (held < MAX_ROUTE_SERIES) {
        this.#series.set(route, found = new RouteSeries(plugin, route));
        this.#perPlugin.set(plugin, held + 1);
      } else {
        // Past the plugin's bound, its later patterns share one series (made once, past the bound itself).
        const key = overflowKey(plugin);
        found = this.#series.get(key);
        if (found === undefined) this.#series.set(key, found = new RouteSeries(plugin, "other"));
      }
    }
    return found;
  }

  /**
   * Drops a plugin's request series (it was unloaded): their counters leave
   * the exposition, as a stopped target's do.
   *
   * @param plugin the plugin
   */
  forget(plugin: string): void {
    for (const [key, s] of this.#series) if (s.plugin === plugin) this.#series.delete(key);
    this.#perPlugin.delete(plugin);
    this.#generation++;
    // Its counters too: what it emitted, its failures, reloads and restarts.
    this.#emitCounts.delete(plugin);
    const labels = this.#labelsOf.get(plugin);
    this.#labelsOf.delete(plugin);
    for (const event of labels?.events ?? []) this.#emitted.remove({ event, plugin });
    for (const origin of labels?.origins ?? []) this.#failures.remove({ plugin, origin });
    for (const cause of labels?.causes ?? []) this.#crashes.remove({ plugin, cause });
    for (const counter of [this.#handlerFailures, this.#reloads, this.#reloadFailures]) counter.remove({ plugin });
  }

  #labels(plugin: string): { events: Set<string>; origins: Set<string>; causes: Set<string> } {
    let labels = this.#labelsOf.get(plugin);
    if (labels === undefined) {
      this.#labelsOf.set(plugin, labels = { events: new Set(), origins: new Set(), causes: new Set() });
    }
    return labels;
  }

  /**
   * Grows whenever series are dropped (a plugin forgotten, the registry reset): a series kept by a caller since
   * a lower generation may no longer be counted, and is to be asked for again.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Counts one emitted event.
   *
   * @param event its name
   * @param plugin the plugin that emitted it (`""`: the host or the application)
   */
  emitted(event: string, plugin = ""): void {
    let name = event;
    if (!this.#eventNames.has(name)) {
      if (this.#eventNames.size >= MAX_EVENT_NAMES) name = "other";
      else this.#eventNames.add(name);
    }
    let counts = this.#emitCounts.get(plugin);
    if (counts === undefined) this.#emitCounts.set(plugin, counts = new Map());
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  /**
   * Counts one contained failure.
   *
   * @param plugin whose code failed (`""` when unknown)
   * @param origin what failed: `event` (a handler), `route`, `worker`, ...
   */
  failure(plugin: string, origin: string): void {
    this.#failures.inc({ plugin, origin });
    if (plugin !== "") this.#labels(plugin).origins.add(origin);
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
    this.#labels(plugin).causes.add(cause);
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

/** What a registry renders: prom-client's shape of a metric's values. */
interface RenderedMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/** A metric of the registry's own shape whose values are read from the route series when scraped. */
function renderedMetric(
  name: string,
  help: string,
  type: RenderedMetric["type"],
  values: () => RenderedMetric["values"],
  reset: () => void,
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum" as const,
    // The registry may rename it (OpenMetrics drops a counter's `_total`): rendered under its name at scrape time.
    get: () => Promise.resolve({ name: metric.name, help, type, aggregator: "sum" as const, values: values() }),
    reset,
  };
  return metric as unknown as Metric;
}

function requestsMetric(series: Map<string, RouteSeries>, reset: () => void): Metric {
  const values = () =>
    [...series.values()].flatMap((s) =>
      s.counts().map(({ method, status, n }) => ({
        labels: { plugin: s.plugin, route: s.route, method, status },
        value: n,
      }))
    );
  const help = "Requests to plugin routes, by plugin, route pattern, method and status";
  return renderedMetric("plugboard_http_requests_total", help, "counter", values, reset);
}

function latencyMetric(series: Map<string, RouteSeries>, reset: () => void): Metric {
  const name = "plugboard_http_request_duration_seconds";
  const values = () =>
    [...series.values()].flatMap((s) => {
      const labels = { plugin: s.plugin, route: s.route };
      let below = 0;
      const buckets = LATENCY_BOUNDS.map((le, i) => ({
        labels: { ...labels, le },
        value: below += s.buckets[i],
        metricName: `${name}_bucket`,
      }));
      return [
        ...buckets,
        { labels: { ...labels, le: "+Inf" }, value: s.count, metricName: `${name}_bucket` },
        { labels, value: s.sum, metricName: `${name}_sum` },
        { labels, value: s.count, metricName: `${name}_count` },
      ];
    });
  const help = "Time from a request reaching the plugin routes to its response headers, by plugin and route pattern";
  return renderedMetric(name, help, "histogram", values, reset);
}
