/**
 * The plugin author's test kit: load one plugin into a quiet host with
 * stand-in dependencies and config, call its routes, emit events, inspect
 * its storage, and check that it unloads clean.
 *
 * @example Test a plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTestHost } from "./testing.ts";
 * await using t = await createTestHost({
 *   plugin: { name: "echo", version: "1.0.0", setup(ctx) { ctx.routes.get("/say/:w", (c) => c.text(c.req.param("w"))); } },
 * });
 * const res = await t.request("/say/hi");
 * assert.equal(await res.text(), "hi");
 * await t.assertUnloadsClean();
 * ```
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { createHost, type Host } from "./src/host.ts";
import type { LogRecord } from "./src/logger.ts";
import type { PluginInfo } from "./src/plugin_info.ts";
import type { PluginDefinition } from "./src/plugin.ts";
import type { PlugboardEvents } from "./src/event_types.ts";
import type { PluginSql, PluginStorage } from "./src/storage.ts";
import type { RemoteService } from "./src/service_types.ts";

/** A dependency the plugin under test needs, stood in for by a stub plugin. */
export interface StubPlugin {
  /** The version the stub claims. @default "1.0.0" */
  version?: string;
  /** Services the stub provides, by name. @default {} */
  services?: Record<string, unknown>;
  /** Extension points the stub defines, by name. @default {} */
  hooks?: Record<string, (...args: never[]) => unknown>;
}

/** Options for {@linkcode createTestHost}. */
export interface TestHostOptions {
  /** The plugin under test: a path to its `mod.ts`, or a plugin object. */
  // deno-lint-ignore no-explicit-any
  plugin: string | PluginDefinition<any>;
  /** Real plugins to load first (paths), such as its dependencies. @default [] */
  with?: string[];
  /** Stub plugins by name, loaded first to satisfy dependencies. @default {} */
  stubs?: Record<string, StubPlugin>;
  /** Config per plugin name, over each config.json. @default {} */
  config?: Record<string, Record<string, unknown>>;
  /** Environment variables for `${VAR}` substitution (the real environment is not read). @default {} */
  env?: Record<string, string>;
  /**
   * The database file. @default the plugin's own file in `dataDir` when it
   * runs isolated (its worker opens it), `":memory:"` in-process
   */
  storagePath?: string;
  /** Setup timeout in ms. @default 5000 */
  setupTimeout?: number;
  /**
   * `"worker"` runs the plugin isolated, as `deno task start` does (the test
   * needs `--unstable-worker-options`, or `"unstable": ["worker-options"]` in
   * `deno.json`); `"none"` in-process. A plugin given as an object always
   * runs in-process. @default "worker"
   */
  isolation?: "worker" | "none";
  /** The data folder (`<dataDir>/plugins/<name>/`). @default a new temporary folder */
  dataDir?: string;
}

/** What {@linkcode createTestHost} returns. */
export interface TestHost {
  /** The host. */
  host: Host;
  /** The plugin's name. */
  name: string;
  /** What the plugin logged (and the host). */
  logs: LogRecord[];
  /** Every event emitted since the host started, in order. */
  events: { name: string; payload: unknown }[];
  /** The plugin's info now. */
  info(): PluginInfo;
  /** Calls the plugin's route `path` (relative to `/api/plugins/<name>`), as a loopback client. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Calls any path of the host, as a loopback client. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Emits an event and waits for its handlers. */
  emit<K extends keyof PlugboardEvents & string>(event: K, payload: PlugboardEvents[K]): Promise<void>;
  /**
   * A service, by name, as a plugin in another isolate sees it: await every
   * call and property read (an isolated plugin's service is a proxy).
   */
  service<T = unknown>(name: string): RemoteService<T>;
  /** The plugin's key-value store. */
  storage: PluginStorage;
  /** The plugin's tables. */
  sql: PluginSql;
  /** Reloads the plugin. */
  reload(): Promise<PluginInfo>;
  /**
   * Unloads the plugin and throws unless the host is back to what it had
   * before the plugin loaded: listeners (by event and owner), services (and
   * who provides them), mounted routers and their routes, middleware, response observers, and
   * every hook's definition and wrappers. The error names what leaked.
   */
  assertUnloadsClean(): Promise<void>;
  /** Stops the host. */
  close(): Promise<void>;
  /** Stops the host, as {@linkcode TestHost.close} does: `await using t = await createTestHost(...)` calls it. */
  [Symbol.asyncDispose](): Promise<void>;
}

const LOOPBACK_INFO = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
  completed: Promise.resolve(),
} as unknown as Deno.ServeHandlerInfo;

/**
 * Starts a quiet host with the plugin under test loaded.
 *
 * @param options the plugin, its stand-ins and config
 * @returns helpers around the host
 * @throws {PluginError} when the plugin (or a dependency) fails to load
 */
export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const logs: LogRecord[] = [];
  const env = options.env ?? {};
  const local = [options.plugin, ...(options.with ?? [])].filter((p): p is string => typeof p === "string");
  // A database file given for the test is where an isolated plugin's worker looks for it too: its data folder.
  const fileDir = options.storagePath && options.storagePath !== ":memory:" ? dirname(options.storagePath) : undefined;
  // A temporary data folder made here is removed when the test host closes.
  const madeDir = options.dataDir ?? fileDir
    ? undefined
    : await Deno.makeTempDir({ prefix: "plugboard-test-" }).catch(() => undefined);
  const dataDir = options.dataDir ?? fileDir ?? madeDir;
  const isolation = options.isolation ?? "worker";
  const host = createHost({
    pluginsDir: null,
    allowRead: local.map((p) => resolve(p, "..", "..")),
    logger: { level: "debug", sink: (r) => logs.push(r) },
    env: (name) => env[name],
    config: options.config,
    storage: options.storagePath !== undefined
      ? { path: options.storagePath }
      : isolation === "none" || !dataDir
      ? { path: ":memory:" }
      : undefined,
    setupTimeout: options.setupTimeout ?? 5000,
    isolation,
    dataDir,
    lockFile: dataDir ? `${dataDir}/plugboard.lock` : undefined,
  });
  const events: { name: string; payload: unknown }[] = [];
  const listeners = trackListeners(host);
  host.events.on("*", (payload, name) => void events.push({ name, payload }));
  const close = async () => {
    await host.stop();
    if (madeDir) await Deno.remove(madeDir, { recursive: true }).catch(() => {});
  };
  let info: PluginInfo;
  let baseline: ReturnType<typeof listeners.baseline>;
  let before: ReturnType<typeof snapshot>;
  try {
    await host.start();
    for (const [name, stub] of Object.entries(options.stubs ?? {})) {
      await host.load({
        name,
        version: stub.version ?? "1.0.0",
        description: "test stub",
        setup(ctx: import("./src/context.ts").PluginContext) {
          for (const [service, value] of Object.entries(stub.services ?? {})) ctx.services.provide(service, value);
          for (const [hook, impl] of Object.entries(stub.hooks ?? {})) ctx.hooks.define(hook as never, impl as never);
        },
      });
    }
    for (const path of options.with ?? []) await host.load(path);
    baseline = listeners.baseline();
    before = snapshot(host);
    info = await host.load(options.plugin);
  } catch (error) {
    // A plugin that fails to load leaves nothing behind: no running host, no data folder.
    await close();
    throw error;
  }
  const name = info.name;
  const call = (path: string, init?: RequestInit) =>
    Promise.resolve(host.fetch(new Request(new URL(path, "http://plugboard.test"), init), LOOPBACK_INFO));
  const t: TestHost = {
    host,
    name,
    logs,
    events,
    info: () => host.get(name)!,
    request: (path, init) => call(`/api/plugins/${name}${path.startsWith("/") ? path : `/${path}`}`, init),
    fetch: call,
    emit: async (event, payload) => void await host.events.emitAsync(event, payload),
    service: <T>(service: string) => host.services.resolve<RemoteService<T>>(service, { requester: "test" }),
    get storage() {
      return host.storage.kv(name);
    },
    get sql() {
      return host.storage.sql(name);
    },
    reload: () => host.reload(name),
    async assertUnloadsClean() {
      await host.unload(name);
      const leaks = diff(before, snapshot(host));
      for (const [key, count] of listeners.counts()) {
        const was = baseline.get(key) ?? 0;
        if (count !== was) leaks.push(`listeners of ${key}: ${was} before, ${count} after`);
      }
      if (leaks.length) throw new Error(`Plugin "${name}" did not unload clean: ${leaks.join("; ")}`);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return t;
}

/** What a host has registered, as comparable text per kind. */
function snapshot(host: Host): Record<string, string> {
  const hooks = host.hooks.names().map((hook) => ({
    hook,
    definedBy: host.hooks.definer(hook) ?? null,
    wrappedBy: host.hooks.wrappers(hook),
  }));
  return {
    "listeners (total)": JSON.stringify(host.events.listenerCount()),
    services: JSON.stringify(host.services.names().map((s) => `${s} (${host.services.owner(s) ?? "host"})`)),
    routes: JSON.stringify([...host.routes.entries()].map(([p]) => ({ plugin: p, routes: host.routes.describe(p) }))),
    middleware: JSON.stringify(host.routes.middleware.map((m) => m.owner)),
    "response observers": JSON.stringify(host.routes.observers.map((o) => o.owner)),
    hooks: JSON.stringify(hooks.filter((h) => h.definedBy !== null || h.wrappedBy.length)),
  };
}

function diff(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((k) => after[k] !== before[k]).map((k) =>
    `${k}: ${before[k]} before, ${after[k]} after`
  );
}

/**
 * Counts the host's listeners by event and owner. The bus cannot list its
 * event names, so every name and owner a listener is added with is noted as
 * it is added; the counts themselves always come from the bus.
 */
function trackListeners(host: Host) {
  const keys = new Map<string, { event: string; owner: string | undefined }>();
  let baseline: Map<string, number> | undefined;
  const keyOf = (event: string, owner: string | undefined) =>
    `"${event}" (${owner ? `owner "${owner}"` : "any owner"})`;
  const count = (event: string, owner: string | undefined) => host.events.listenerCount(event, owner);
  const note = (event: string, owner: string | undefined) => {
    for (const o of new Set([owner, undefined])) {
      const key = keyOf(event, o);
      if (keys.has(key)) continue;
      keys.set(key, { event, owner: o });
      // First seen after the baseline: count before this listener is added.
      if (baseline && !baseline.has(key)) baseline.set(key, count(event, o));
    }
  };
  const bus = host.events;
  const on = bus.on.bind(bus) as (event: string, fn: unknown, options?: { owner?: string }) => () => void;
  Object.defineProperty(bus, "on", {
    configurable: true,
    value: (event: string, fn: unknown, options?: { owner?: string }) => {
      note(event, options?.owner);
      return on(event, fn, options);
    },
  });
  const counts = () => new Map([...keys].map(([key, { event, owner }]) => [key, count(event, owner)]));
  return {
    baseline: () => baseline = counts(),
    counts,
  };
}
