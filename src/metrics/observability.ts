/**
 * What the host tells about itself while it runs: the metrics, the event
 * streams, the access log, each plugin's last failure and crash causes, and
 * every registration a plugin holds. The host feeds it from three taps: its
 * bus (every event), its error reporter (every contained failure) and its
 * HTTP app (every answered plugin request).
 *
 * @module
 */

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { findLocation } from "../error_location.ts";
import { errorText } from "../error_text.ts";
import type { EventBusOptions, EventMap } from "../event_bus_types.ts";
import type { EventBus } from "../events.ts";
import type { HookRegistry } from "../hooks.ts";
import type { Logger } from "../logger.ts";
import type { PluginInfo, PluginLastError } from "../plugin_info.ts";
import type { Failure } from "../reporter.ts";
import type { ResponseRecord, RouteTable } from "../routes.ts";
import type { VersionUsage } from "../runtime/runtime.ts";
import type { Container } from "../services.ts";
import { AccessLog } from "./access_log.ts";
import { Activity } from "./activity.ts";
import { EventStreams } from "./event_stream.ts";
import { HostMetrics } from "./metrics.ts";
import type { RouteSeries } from "./route_series.ts";
import { type ObservabilitySettings, resolveObservability } from "./settings.ts";
import { storageBytes } from "./storage_size.ts";
import { TappedEventBus } from "./tapped_bus.ts";

/** What observability reads of the host. */
export interface ObservedHost {
  readonly log: Logger;
  // deno-lint-ignore no-explicit-any
  readonly events: EventBus<any>;
  readonly services: Container;
  readonly hooks: HookRegistry;
  readonly routes: RouteTable;
  stateCounts(): Record<string, number>;
  list(): PluginInfo[];
}

/** Options for {@linkcode Observability}: the host's options carry both. */
export interface ObservabilityOptions {
  /** The `observability` setting. @default every part on, metrics guarded */
  observability?: ObservabilitySettings;
  /** The host's data folder (for each plugin's size on disk). */
  dataDir?: string;
}

/** A live version that can tell its memory (isolated and sandboxed plugins). */
export interface UsageReporter {
  usage?(): Promise<VersionUsage>;
}

const PREFIX = "/api/plugins/";

/**
 * Told about one answered request to a plugin route, field by field (no record to build): what the host's HTTP
 * side calls for its own observer. The fields are those of a {@linkcode ResponseRecord}, `at` always set.
 */
export type AnsweredRequest = (
  method: string,
  path: string,
  route: string | undefined,
  status: number,
  ms: number,
  at: number,
) => void;

/** One route pattern as the observer keeps it: whose it is, and the series its requests count into. */
interface RouteEntry {
  plugin: string;
  series: RouteSeries | undefined;
  /** The metrics' generation `series` was asked for in. */
  generation: number;
}

/**
 * The host's observability: metrics, event streams, access log, last errors.
 *
 * @example Count a request and describe a plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHost } from "../../mod.ts";
 * const host = createHost({ pluginsDir: null, isolation: "none", logger: { level: "silent" } });
 * await host.load({ name: "p", version: "1.0.0", setup(ctx) { ctx.events.on("task.*", () => {}); } });
 * const info = await host.observability.describe(host.get("p")!);
 * assert.deepEqual(info.listeners, ["task.*"]);
 * await host.stop();
 * ```
 */
export class Observability {
  /** The settings, defaults filled. */
  readonly settings: Required<ObservabilitySettings>;
  /** The Prometheus metrics (undefined when `metrics` is off). */
  readonly metrics: HostMetrics | undefined;
  /** The event streams of `GET /api/events` and the dashboard. */
  readonly streams: EventStreams = new EventStreams();
  /** Each plugin's requests over the last minutes, for the dashboard's charts. */
  readonly activity: Activity = new Activity();
  #host: ObservedHost;
  #options: ObservabilityOptions;
  #versionOf: (name: string) => UsageReporter | undefined;
  #lastErrors = new Map<string, PluginLastError>();
  #crashes = new Map<string, Record<string, number>>();
  #accessLog: AccessLog;
  /** Whether access lines are written: the setting, and a logger at info level or below. */
  #logging: boolean;
  #routes = new Map<string, RouteEntry>();

  /**
   * @param host the host it observes
   * @param options the settings and the data folder
   * @param versionOf a plugin's live version, which may tell what its worker or process uses
   */
  constructor(
    host: ObservedHost,
    options: ObservabilityOptions = {},
    versionOf: (name: string) => UsageReporter | undefined = () => undefined,
  ) {
    this.#host = host;
    this.#options = options;
    this.#versionOf = versionOf;
    this.settings = resolveObservability(options.observability);
    this.#accessLog = new AccessLog(host.log);
    this.#logging = this.settings.accessLog && this.#accessLog.enabled;
    for (const name of this.settings.debug) host.log.debugSwitch.set(name, true);
    this.metrics = this.settings.metrics
      ? new HostMetrics({ states: () => host.stateCounts(), memory: () => this.#memoryAll() })
      : undefined;
  }

  /**
   * Builds the host's event bus, tapped.
   *
   * @param options the bus's options
   * @returns a bus whose every emit is counted and streamed
   */
  bus<E extends EventMap>(options: EventBusOptions): EventBus<E> {
    return new TappedEventBus<E>(this.#tap, options);
  }

  /**
   * Told about every contained failure (the host's error reporter calls it).
   *
   * @param failure the failure
   */
  failure(failure: Failure): void {
    const { origin, plugin, event, error } = failure;
    const message = errorText(error);
    this.metrics?.failure(plugin ?? "", origin);
    if (plugin) {
      this.#lastErrors.set(plugin, this.#lastError(plugin, origin, error));
      if (origin === "worker") {
        const cause = crashCause(message);
        const counts = this.#crashes.get(plugin) ?? {};
        counts[cause] = (counts[cause] ?? 0) + 1;
        this.#crashes.set(plugin, counts);
        this.metrics?.crash(plugin, cause);
      }
    }
    this.streams.publish("system.error", { origin, plugin, event, message });
  }

  /**
   * The observer of plugin requests: counts them, charts them and writes the
   * access log. Undefined when the access log and metrics are both off, so
   * requests take the host's fastest path.
   */
  get observer(): ((record: ResponseRecord) => void) | undefined {
    if (!this.settings.accessLog && !this.metrics) return undefined;
    return this.#observe;
  }

  /**
   * {@linkcode Observability.observer}, told field by field: what the host's
   * HTTP side calls, so that a request observed by the host alone builds no
   * record. Undefined when the observer is.
   */
  get answered(): AnsweredRequest | undefined {
    if (!this.settings.accessLog && !this.metrics) return undefined;
    return this.#answered;
  }

  /**
   * A plugin's info with everything it registered: listeners, hooks,
   * middleware, storage on disk, memory, crash causes, last error, debug.
   *
   * @param info the plugin's info from the host
   * @returns a copy with the observed fields
   */
  async describe(info: PluginInfo): Promise<PluginInfo> {
    const name = info.name;
    const host = this.#host;
    const active = info.state === "active";
    const hooks = active ? host.hooks.names() : [];
    const usage = active ? await this.#usageOf(name) : undefined;
    const lastError = this.#lastErrors.get(name) ?? reloadError(info);
    return {
      ...info,
      listeners: active ? host.events.listenedBy(name) : [],
      hooks: {
        defines: hooks.filter((h) => host.hooks.definer(h) === name),
        wraps: hooks.filter((h) => host.hooks.wrappers(h).includes(name)),
      },
      middleware: active ? host.routes.middleware.filter((m) => m.owner === name).length : 0,
      responseObservers: active ? host.routes.observers.filter((o) => o.owner === name).length : 0,
      storageBytes: this.#options.dataDir ? storageBytes(this.#options.dataDir, name) : undefined,
      restartCauses: { ...this.#crashes.get(name) },
      memoryBytes: memoryOf(usage),
      timers: usage?.timers,
      ...(lastError ? { lastError } : {}),
      debug: host.log.debugSwitch.has(name) || host.log.level === "debug",
    };
  }

  /** Ends every event stream (before a server's shutdown waits for requests in flight). */
  close(): void {
    this.streams.close();
    this.#accessLog.close();
  }

  #tap = (event: string, payload: unknown, emitter: string): void => {
    this.metrics?.emitted(event, emitter);
    // The host's own word only (emitter ""): a trusted plugin emitting plugin.unloaded must not wipe another's series.
    if (event === "plugin.unloaded" && emitter === "") {
      // What it served leaves the charts and the exposition with it; a plugin loaded again starts afresh.
      const name = (payload as { name?: unknown })?.name;
      if (typeof name === "string") {
        this.activity.forget(name);
        this.metrics?.forget(name);
      }
    }
    if ((event === "plugin.reloaded" || event === "plugin.reload_failed") && emitter === "") {
      const name = (payload as { name?: unknown })?.name;
      if (typeof name === "string") this.metrics?.reload(name, event === "plugin.reloaded");
    }
    // system.error is published by failure(), which sees every one (emitted only while someone listens).
    if (event !== "system.error" && this.streams.active) this.streams.publish(event, payload);
  };

  #observe = (record: ResponseRecord): void =>
    this.#answered(record.method, record.path, record.route, record.status, record.ms, record.at ?? Date.now());

  #answered: AnsweredRequest = (method, path, route, status, ms, at) => {
    try {
      // Found by the pattern (the same string object on every request: its hash is cached).
      const entry = this.#routeEntry(route ?? "");
      const plugin = entry.plugin;
      const metrics = this.metrics;
      if (metrics !== undefined) {
        let series = entry.series;
        if (series === undefined || entry.generation !== metrics.generation) {
          entry.series = series = metrics.series(plugin, route ?? "");
          entry.generation = metrics.generation;
        }
        series.observe(method, status, ms);
      }
      if (plugin) this.activity.record(plugin, status, ms, at);
      if (this.#logging) this.#accessLog.request(plugin || pluginOf(path) || "plugboard", method, path, status, ms);
    } catch {
      // Observing must never fail a request.
    }
  };

  /** A route pattern's entry, made on first use (bounded: forgotten all at once past 5,000 patterns). */
  #routeEntry(route: string): RouteEntry {
    let entry = this.#routes.get(route);
    if (entry === undefined) {
      if (this.#routes.size >= 5000) this.#routes.clear();
      this.#routes.set(route, entry = { plugin: pluginOf(route), series: undefined, generation: -1 });
    }
    return entry;
  }

  async #usageOf(name: string): Promise<VersionUsage | undefined> {
    try {
      return await this.#versionOf(name)?.usage?.();
    } catch {
      return undefined;
    }
  }

  async #memoryAll(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const info of this.#host.list()) {
      const bytes = info.state === "active" ? memoryOf(await this.#usageOf(info.name)) : undefined;
      if (bytes !== undefined) out[info.name] = bytes;
    }
    return out;
  }

  #lastError(plugin: string, origin: string, error: unknown): PluginLastError {
    const source = this.#host.list().find((p) => p.name === plugin)?.source;
    const location = locate(error, source);
    const stack = error instanceof Error ? error.stack : undefined;
    return {
      origin,
      message: errorText(error),
      at: new Date().toISOString(),
      ...(location ? { location } : {}),
      ...(stack ? { stack } : {}),
    };
  }
}

/** The plugin name of `/api/plugins/<name>/...`, or `""`. */
function pluginOf(path: string): string {
  if (!path.startsWith(PREFIX)) return "";
  const end = path.indexOf("/", PREFIX.length);
  return end < 0 ? "" : path.slice(PREFIX.length, end);
}

/** A sandboxed plugin's process: the kernel's figure (read by `ps`), not its own word; a worker's: its reported heap. */
function memoryOf(usage: VersionUsage | undefined): number | undefined {
  const bytes = usage?.rssBytes ?? usage?.heapBytes;
  return typeof bytes === "number" ? bytes : undefined;
}

/** Why a worker crashed, from the reason the host gave. */
function crashCause(message: string): string {
  if (message.includes("sent nothing for")) return "hang";
  if (message.includes("MB budget")) return "memory";
  if (message.includes("its worker failed") || message.includes("could not be read")) return "error";
  return "other";
}

/** A refused reload as a last error. */
function reloadError(info: PluginInfo): PluginLastError | undefined {
  if (!info.reloadError && !info.error) return undefined;
  return {
    origin: info.reloadError ? "reload" : "load",
    message: (info.reloadError ?? info.error)!,
    at: info.loadedAt ?? new Date(0).toISOString(),
    ...(info.reloadErrorLocation ? { location: info.reloadErrorLocation } : {}),
  };
}

/** Where an error points, preferring the plugin's own folder (snapshot folders mapped back). */
function locate(error: unknown, source: string | undefined): PluginLastError["location"] {
  const unsnap = (p: string) => p.replace(/\/\.([a-z][a-z0-9-]*)@\d+\//, "/$1/");
  let folder: string | undefined;
  try {
    if (source?.startsWith("file:")) folder = dirname(fileURLToPath(source));
    else if (source && !/^https?:/.test(source)) folder = dirname(source);
  } catch {
    folder = undefined;
  }
  // Elsewhere, but never plugboard's own code: a failure plugboard describes (a hang, a crash) points at no line of
  // the plugin's rather than at the host's.
  return findLocation(error, folder, unsnap) ?? findLocation(error, undefined, unsnap, ownCode);
}

/** plugboard's own modules (`src/`, and `mod.ts`, `plugin.ts`, `testing.ts` beside it). */
const OWN_CODE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ownCode = (file: string) =>
  file.startsWith(`${OWN_CODE_ROOT}src/`) || /^(mod|plugin|testing)\.ts$/.test(file.slice(OWN_CODE_ROOT.length)) &&
    file.startsWith(OWN_CODE_ROOT);
