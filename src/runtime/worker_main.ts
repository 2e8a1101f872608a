/**
 * The entry module of a plugin's worker. It imports the plugin, builds its
 * context on stand-in tables that forward to the host, runs its setup, and
 * answers the host: events to deliver, requests to serve, service and hook
 * calls, handover, stop, and heartbeats.
 *
 * A plugin's worker runs it bundled with what it imports, as `worker_bundle.js`
 * (see `scripts/bundle_worker.ts`): after changing this module or one it
 * imports, run `deno task bundle:worker`. The sandbox tier imports it as is.
 *
 * @module
 */

import { createContext } from "../context.ts";
import { PluginError } from "../errors.ts";
import { Logger } from "../logger.ts";
import { type ReadPlugin, readPlugin } from "../plugin_shape.ts";
import { validateWith } from "../schema.ts";
import { Scope } from "../scope.ts";
import { openPluginStorage, type PluginStore } from "../storage/open.ts";
import { explainPermissionError, explainPermissionsIn } from "./permission_messages.ts";
import { type MessageEndpoint, Rpc, toWireError, type Transfer } from "./rpc.ts";
import type { HostPorts } from "./runtime.ts";
import type { ServiceCall } from "./service_calls.ts";
import { recordsOf, type ResponseColumns } from "./worker_observer.ts";
// The tables from their own modules, not through worker_tables.ts: unbundled (the sandbox tier), every module loaded costs.
import type { HostDirectory } from "./worker_directory.ts";
import { WorkerBus } from "./worker_bus.ts";
import { WorkerContainer } from "./worker_container.ts";
import { WorkerHooks } from "./worker_hooks.ts";
import { WorkerRouteTable } from "./worker_routes.ts";
import type { WireRequest, WireResponse } from "./wire_http.ts";
import { fromWireRequest, toWireResponse } from "./wire_http.ts";
import { errorText } from "../error_text.ts";
import { routeWorkerOutput } from "./worker_console.ts";
import { isResponse, notAResponse } from "../http/route_answer.ts";
import { trackTimers } from "./worker_timers.ts";
import { type McpRunRequest, WorkerMcp } from "../mcp/worker_mcp.ts";

/**
 * The heap as the runtime reports it, taken before any plugin code runs: a
 * plugin that replaces `Deno.memoryUsage` cannot hide its heap from the
 * host's budget.
 */
const memoryUsage = Deno.memoryUsage;

/** The timers alive in this worker (every one is the plugin's), reported with the heap. */
const liveTimers = trackTimers();

/** What `start` receives from the host. */
export interface WorkerStart {
  source: string;
  config: unknown;
  previous: unknown;
  dataDir: string;
  refuseStrayFailures: boolean;
  directory: HostDirectory;
  /** The manifest as the host checked it. */
  meta: { name: string; version: string; emits: string[] };
}

let plugin: ReadPlugin | undefined;
let name = "plugin";
let scope: Scope | undefined;
let ctx: ReturnType<typeof createContext> | undefined;
let handover: (() => unknown) | undefined;
/** Its database, opened when `ctx.storage` or `ctx.sql` is first read. */
let storage: PluginStore | undefined;
const directory: HostDirectory = { services: {}, hooks: [] };

/**
 * What this module uses of a worker's global scope that Deno's default
 * (window) types do not declare: `postMessage` to the host and `onmessage`
 * from it. Typed here, on `self`, rather than with a `deno.worker` lib
 * reference, which would change the globals of every module type-checked
 * with this one (and which JSR refuses).
 */
interface WorkerScope extends MessageEndpoint {
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** This worker's global scope: `self`, typed as a worker's. */
const worker = self as typeof self & WorkerScope;

const rpc: Rpc = new Rpc(worker, {
  async import(p: { href: string; shown: string; hint: string }) {
    name = p.hint;
    explainPermissionsIn(p.hint);
    let mod: Record<string, unknown>;
    try {
      mod = await import(p.href);
    } catch (cause) {
      const explained = explainPermissionError(p.hint, cause) as Error;
      throw new PluginError("IMPORT_FAILED", `importing ${p.shown} failed: ${errorText(explained)}`, {
        plugin: p.hint,
        stage: "load",
      });
    }
    plugin = readPlugin(mod, p.shown, p.hint);
    if (typeof plugin.data.name === "string") name = plugin.data.name;
    // The host checks the manifest (this worker is not trusted to): send it what can cross.
    const data: Record<string, unknown> = {};
    const issues = [...plugin.issues];
    for (const [key, value] of Object.entries(plugin.data)) {
      try {
        data[key] = structuredClone(value);
      } catch {
        issues.push({ path: [key], message: "must be plain data (strings, numbers, arrays and objects)" });
      }
    }
    return { data, issues, hasConfigSchema: plugin.config !== undefined };
  },
  validate(p: { data: Record<string, unknown> }) {
    return plugin!.config ? validateWith(plugin!.config, p.data) : { ok: true, value: p.data };
  },
  async start(p: WorkerStart) {
    output.open();
    Object.assign(directory, p.directory);
    const rpcLog = (record: { level: string; name: string; message: string; args: unknown[] }) =>
      rpc.notify("log", { ...record, args: record.args.map(printable) });
    const emits = p.meta.emits;
    // Each stand-in is made when the plugin's context first reaches for it: a plugin that only serves routes never
    // pays for an event bus, a container, hooks or MCP (~0.2 MiB per worker for all of them).
    let events: WorkerBus | undefined;
    let services: WorkerContainer | undefined;
    let routes: WorkerRouteTable | undefined;
    let hooks: WorkerHooks | undefined;
    let log: Logger | undefined;
    let mcp: WorkerMcp | undefined;
    const ports: HostPorts = {
      get events() {
        return events ??= new WorkerBus(rpc, name, emits);
      },
      get services() {
        return services ??= new WorkerContainer(rpc, directory);
      },
      get routes() {
        return routes ??= new WorkerRouteTable(rpc);
      },
      get hooks() {
        return hooks ??= new WorkerHooks(rpc, directory);
      },
      storage: () => {
        const store = storage ??= openPluginStorage({ name, dir: p.dataDir });
        return { kv: () => store.kv, sql: () => store.sql };
      },
      get log() {
        return log ??= new Logger("plugboard", { level: "debug", sink: rpcLog });
      },
      report: (f) => rpc.notify("report", { origin: f.origin, event: f.event, error: wireError(f.error) }),
      reload: () => rpc.call("reload"),
      get mcp() {
        return mcp ??= new WorkerMcp(rpc);
      },
    };
    tables = ports;
    settingUp = true;
    scope = new Scope(name);
    ctx = createContext({
      name,
      version: p.meta.version,
      source: p.source,
      config: p.config,
      previous: p.previous,
      dataDir: p.dataDir,
      scope,
      ports,
      setHandover: (fn) => handover = fn,
    });
    const c = ctx;
    // Its time limit is kept by the host, which ends this worker when setup runs over (WorkerVersion.start): a timer
    // here would load the runtime's timer code into every worker (~0.15 MiB even for AbortSignal.timeout).
    await Promise.resolve().then(() => plugin!.setup(c)).catch((error) => {
      throw explainPermissionError(name, error);
    });
    // A rejection its setup left floating is reported once the current task ends. The host's answer to `turn` comes
    // in a later task (a message), after that: a version that leaves one is refused.
    await rpc.call("turn");
    if (strays.length && p.refuseStrayFailures) {
      const stray = strays[0] as Error;
      throw new PluginError(
        "SETUP_FAILED",
        `its setup left a promise rejected with nobody handling it: ${errorText(stray)}. ` +
          `Await it, or add a .catch()`,
        { plugin: name, stage: "load" },
      );
    }
    settingUp = false;
    const service = plugin!.service?.();
    if (service !== undefined && !c.services.has(name)) c.services.provide(name, service);
    // Live here at once: the host stages what this announces, and commits it.
    const failed = scope.commit();
    if (failed.length) throw failed[0];
  },
  handover() {
    return handover?.();
  },
  async stop(p: { timeoutMs: number }) {
    const teardown = plugin?.teardown;
    const c = ctx;
    const failures = scope ? await scope.dispose(teardown && c ? () => teardown(c) : undefined, p) : [];
    storage?.close();
    return failures.map((f) => ({ step: f.step, error: wireError(f.error) }));
  },
  deliver(p: { id: number; event: string; payload: unknown }) {
    return (tables!.events as WorkerBus).deliver(p.id, p.event, p.payload);
  },
  callService(p: ServiceCall) {
    return (tables!.services as WorkerContainer).invoke(p);
  },
  hookImpl(p: { name: string; args: unknown[] }) {
    return (tables!.hooks as WorkerHooks).runImpl(p.name, p.args);
  },
  hookWrapper(p: { id: number; callId: number; args: unknown[] }) {
    return (tables!.hooks as WorkerHooks).runWrapper(p.id, p.callId, p.args);
  },
  async fetch(p: WireRequest): Promise<Transfer<WireResponse>> {
    const table = tables!.routes as WorkerRouteTable;
    try {
      const res: unknown = await table.serve(fromWireRequest(p));
      if (!isResponse(res)) throw notAResponse(res);
      return await toWireResponse(res);
    } catch (error) {
      throw explainPermissionError(name, error);
    }
  },
  async middleware(p: { id: number; callId: number; request: WireRequest }) {
    const table = tables!.routes as WorkerRouteTable;
    const res = await table.runMiddleware(p.id, p.callId, fromWireRequest(p.request));
    return toWireResponse(res);
  },
  responses(p: { id: number; columns: ResponseColumns }) {
    const failures = (tables!.routes as WorkerRouteTable).observe(p.id, recordsOf(p.columns));
    for (const error of failures) rpc.notify("report", { origin: "observer", error: wireError(error) });
  },
  mcpRun(p: McpRunRequest) {
    return (tables!.mcp as WorkerMcp).run(p).catch((error) => {
      throw explainPermissionError(name, error);
    });
  },
  mcpCancel(p: { callId: number }) {
    (tables?.mcp as WorkerMcp | undefined)?.cancel(p);
  },
  directory(p: HostDirectory) {
    Object.assign(directory, p);
  },
  /** A worker started ahead of need: what setup needs is loaded, and its code run once, while it waits. */
  async warm() {
    await prime().catch(() => {/* only a head start: a failure here changes nothing */});
  },
  ping(p: { n: number }) {
    const m = memoryUsage();
    rpc.notify("pong", { n: p.n, heapBytes: m.heapUsed + m.external, timers: liveTimers() });
  },
});

let tables: HostPorts | undefined;

/**
 * Runs the path of a setup and a request once on throwaway tables that
 * talk to no one, so that a plugin's setup in a worker started ahead of need
 * does not pay for compiling plugboard's code the first time it runs.
 */
async function prime(): Promise<void> {
  const quiet = new Rpc({ postMessage() {} }, {});
  const none: HostDirectory = { services: {}, hooks: [] };
  const routes = new WorkerRouteTable(quiet);
  const scope = new Scope("warm");
  const c = createContext({
    name: "warm",
    version: "0.0.0",
    source: "warm",
    config: {},
    previous: undefined,
    dataDir: "",
    scope,
    ports: {
      events: new WorkerBus(quiet, "warm", []),
      services: new WorkerContainer(quiet, none),
      routes,
      hooks: new WorkerHooks(quiet, none),
      storage: () => {
        throw new Error("no storage while warming");
      },
      log: new Logger("plugboard", { level: "debug", sink: () => {} }),
      report: () => {},
      reload: () => Promise.resolve(),
    },
    setHandover: () => {},
  });
  c.routes.get("/x/:y", (ctx) => ctx.json({ y: ctx.req.param("y") }));
  c.events.on("warm.*", () => {});
  c.log.debug("warm");
  scope.commit();
  await toWireResponse(await routes.serve(new Request("http://localhost/api/plugins/warm/x/1")));
  await scope.dispose();
}

// A plugin that ends its own worker (`Deno.exit()`, `self.close()`) says so first: Deno tells the host nothing when a
// worker ends, and the host would otherwise learn it from the worker's silence only after its hangTimeout (requests to
// the plugin waiting meanwhile). Installed before any plugin code runs.
const exit = Deno.exit;
const closeWorker = worker.close.bind(worker);
Deno.exit = ((code?: number) => {
  rpc.notify("exit", { how: "exit", code: typeof code === "number" ? code : undefined });
  rpc.flush();
  return exit(code);
}) as typeof Deno.exit;
worker.close = () => {
  rpc.notify("exit", { how: "close" });
  rpc.flush();
  closeWorker();
};

// Everything the plugin prints (console.*, Deno.stdout, Deno.stderr) is a log line the host names after it, never raw
// output: routed before any plugin code is imported, held until setup starts (the host has no log for it before).
const output = routeWorkerOutput((line) => rpc.notify("log", { ...line, name, args: [] }));

function wireError(error: unknown) {
  return toWireError(explainPermissionError(name, error));
}

function printable(value: unknown): unknown {
  if (value instanceof Error) return value.stack ?? value.message;
  try {
    structuredClone(value);
    return value;
  } catch {
    return String(value);
  }
}

// A plugin's stray failure is reported against it; the worker keeps serving.
let settingUp = false;
const strays: unknown[] = [];
function stray(error: unknown): void {
  if (settingUp) strays.push(error);
  rpc.notify("report", { origin: "unhandled", error: wireError(error) });
}
worker.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  stray(e.reason);
});
worker.addEventListener("error", (e) => {
  e.preventDefault();
  stray(e.error ?? e.message);
});
worker.onmessage = (e: MessageEvent) => rpc.receive(e.data);
