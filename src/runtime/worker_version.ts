/**
 * The host side of one isolated plugin version: it drives its worker
 * (import, config, setup, handover, stop), watches it for hangs
 * (`watchdog.ts`) and for its memory budget, lets its requests in flight finish
 * before it stops (`worker_drain.ts`), and terminates it on stop, on a hang,
 * on a crash, or when it is discarded without ever starting.
 * `worker_bridge.ts` turns what the worker registers into stand-ins in the
 * host's tables.
 *
 * @module
 */

import { PluginError, type PluginErrorCode } from "../errors.ts";
import { errorText } from "../error_text.ts";
import { validateManifest } from "../manifest.ts";
import type { DisposeFailure } from "../scope.ts";
import { withTimeout } from "../timeout.ts";
import { RemoteError, type Rpc } from "./rpc.ts";
import type {
  ConfigValidation,
  HostPorts,
  ImportRequest,
  PluginManifest,
  PluginVersion,
  StartRequest,
} from "./runtime.ts";
import { Watchdog } from "./watchdog.ts";
import { WorkerBridge } from "./worker_bridge.ts";
import { directoryOf } from "./worker_directory.ts";
import { Drain, DrainedRpc } from "./worker_drain.ts";
import type { WorkerStart } from "./worker_main.ts";
import { ProcessWorker, type WorkerLike } from "./process_worker.ts";
import type { VersionUsage } from "./runtime.ts";

/** What a {@linkcode WorkerVersion} watches its worker with. */
export interface WorkerVersionOptions {
  /** How long a plugin's worker may stay silent while it owes an answer, in ms, by plugin name. */
  hangTimeout(name: string): number;
  /** The heap (plus external memory) a plugin's worker may use, in MB, by plugin name. */
  memoryLimitMb(name: string): number;
  /** Events and log lines a plugin may send per second, by plugin name, when the operator set them. */
  rates?(name: string): { emits?: number; logs?: number };
}

/** One plugin version running in its own worker, seen from the host. */
export class WorkerVersion implements PluginVersion {
  /** The manifest the worker read, as the host checked it (set by {@linkcode WorkerVersion.load}). */
  manifest!: PluginManifest;
  /** Whether the module declares a config schema. */
  hasConfigSchema = false;
  /** Called once its setup has finished (the runtime then readies a worker for the next version). */
  onStarted?: () => void;
  /** Called when the worker crashes, hangs or runs over its memory budget (not when it is stopped). */
  onCrash?: (error: PluginError) => void;
  /** The permissions the worker runs with. */
  readonly granted: Deno.PermissionOptionsObject;
  #worker: WorkerLike;
  #rpc: Rpc;
  /** The heap its worker last reported. */
  #heapBytes: number | undefined;
  /** The timers alive in its worker, as it reported them last. */
  #timers: number | undefined;
  #options: WorkerVersionOptions;
  #name = "plugin";
  #ports: HostPorts | undefined;
  #request: StartRequest | undefined;
  #watchdog: Watchdog | undefined;
  #ping = 0;
  /** No longer the live version (stopping, stopped, crashed): it registers nothing more. */
  #ended = false;
  /** The worker is gone (terminated, crashed). */
  #terminated = false;
  /** Reloads the worker asked for (`ctx.reload()`) that are under way: its requests in flight may be waiting on them. */
  #ownReloads = 0;
  #drain = new Drain(() => this.#ownReloads > 0);
  #bridge: WorkerBridge;

  /**
   * @param worker its worker, just started (or a sandboxed plugin's process, which looks like one)
   * @param granted the permissions the worker runs with
   * @param options the hang and memory budgets
   * @param name the plugin it is loaded as (its budgets are that name's)
   */
  constructor(worker: WorkerLike, granted: Deno.PermissionOptionsObject, options: WorkerVersionOptions, name?: string) {
    this.#worker = worker;
    if (name) this.#name = name;
    this.granted = granted;
    this.#options = options;
    const bridge = this.#bridge = new WorkerBridge({
      rpc: () => this.#rpc,
      name: () => this.#name,
      emits: () => this.manifest?.emits ?? [],
      observes: () => this.manifest?.permissions?.observe ?? [],
      hostWide: () => this.manifest?.permissions?.hostWide ?? [],
      ports: () => this.#ports,
      request: () => this.#request,
      ended: () => this.#ended,
      gone: () => this.#terminated,
      rates: () => options.rates?.(this.#name) ?? {},
    });
    const handlers = bridge.handlers();
    this.#rpc = new DrainedRpc(worker, {
      ...handlers,
      reload: (p: never) => this.#ownReload(() => handlers.reload(p)),
      // Its setup has returned: the answer reaches it in a task of its own, once the runtime has reported what that
      // setup left rejected (the worker has no timer to wait with).
      turn: () => undefined,
      // It ended itself (its plugin called Deno.exit() or self.close()): a crash now, not after hangTimeout of silence.
      exit: (p: { how?: unknown; code?: unknown }) => {
        const code = Number.isSafeInteger(p?.code) ? `(${p.code})` : "()";
        this.#crash(`its plugin ended its worker with ${p?.how === "close" ? "self.close()" : `Deno.exit${code}`}`);
      },
      pong: (p: { heapBytes: number; timers?: number }) => {
        // Its own word, like the heap: shown only when it is a count.
        if (Number.isSafeInteger(p?.timers) && p.timers! >= 0) this.#timers = p.timers;
        this.#checkMemory(p?.heapBytes);
      },
    }, this.#drain);
    worker.onmessage = (e) => {
      // Any message is progress, whatever it is.
      this.#watchdog?.heard();
      if (!this.#rpc.receive(e.data)) this.#crash("its worker sent a batch of messages longer than any it makes");
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#crash(worker instanceof ProcessWorker ? e.message : `its worker failed: ${e.message}`);
    };
    worker.onmessageerror = () => this.#crash("its worker sent a message that could not be read");
  }

  /**
   * Imports the plugin in the worker and checks its manifest here (its code ran there first).
   *
   * @param request what to import
   * @throws {PluginError} `IMPORT_FAILED`, `TIMEOUT` or `INVALID_PLUGIN`
   */
  async load(request: ImportRequest): Promise<void> {
    this.#name = request.hint;
    const loaded = await withTimeout(
      this.#rpc.call<{ data: unknown; issues: unknown; hasConfigSchema: unknown }>("import", {
        href: request.href,
        shown: request.shown,
        hint: request.hint,
      }),
      request.timeoutMs,
      () =>
        new PluginError("TIMEOUT", `importing ${request.shown} timed out after ${request.timeoutMs} ms`, {
          plugin: request.hint,
          source: request.shown,
          stage: "load",
        }),
    ).catch((error) => {
      throw fromRemote(error, request.hint, "IMPORT_FAILED");
    });
    // Checked here: the plugin's own code ran in that worker before it answered.
    this.manifest = validateManifest(loaded?.data, workerIssues(loaded?.issues), request.shown, request.hint);
    this.hasConfigSchema = loaded?.hasConfigSchema === true;
    this.#name = this.manifest.name;
  }

  validateConfig(data: Record<string, unknown>): Promise<ConfigValidation> {
    return this.#rpc.call<ConfigValidation>("validate", { data });
  }

  async start(ports: HostPorts, request: StartRequest): Promise<void> {
    this.#ports = ports;
    this.#request = request;
    const start: WorkerStart = {
      source: request.source,
      config: request.config,
      previous: request.previous,
      dataDir: request.dataDir,
      refuseStrayFailures: request.refuseStrayFailures ?? false,
      directory: directoryOf(ports),
      meta: { name: this.manifest.name, version: this.manifest.version, emits: [...this.manifest.emits] },
    };
    try {
      // The time limit of its setup is kept here, not in the worker (which would load the runtime's timers for it).
      await withTimeout(
        this.#rpc.call("start", start),
        request.setupTimeout,
        () =>
          new PluginError(
            "TIMEOUT",
            `setup timed out after ${request.setupTimeout} ms; its worker was terminated. ` +
              `Make sure setup() returns (or its promise settles), or raise the host's setupTimeout`,
            { plugin: this.#name, source: request.source, stage: "load" },
          ),
      );
    } catch (error) {
      this.terminate();
      await request.scope.dispose();
      throw fromRemote(error, this.#name, "SETUP_FAILED", "setup threw");
    }
    this.#startWatchdog();
    this.onStarted?.();
  }

  async handover(): Promise<unknown> {
    return await this.#rpc.call("handover");
  }

  async stop(options: { timeoutMs: number; drainMs?: number }): Promise<DisposeFailure[]> {
    // Nothing new reaches it: a later request is the new version's (or 404), a service proxy held past it calls the
    // new version, and it registers nothing more. What its response observers still have to be told is sent.
    const failures: DisposeFailure[] = this.#request?.scope.deactivate() ?? [];
    this.#bridge.flush();
    this.#ended = true;
    // Its requests in flight finish (it may still emit meanwhile, and in its teardown), for up to `drainMs`.
    if (!await this.#drainFor(options.drainMs ?? 0)) {
      this.#ports?.log.warn(
        `Plugin "${this.#name}": ${this.#drain.inFlight} request(s) or service call(s) still in flight past their ` +
          `${options.drainMs} ms once it was replaced or unloaded; its old worker is stopped with them. Raise ` +
          `"routeTimeout" under ` +
          `"limits.${this.#name}" if its requests need longer`,
      );
    }
    this.#watchdog?.stop();
    try {
      const remote = await withTimeout(
        this.#rpc.call<{ step: string; error: { name: string; message: string; code?: string } }[]>("stop", {
          timeoutMs: options.timeoutMs,
        }),
        options.timeoutMs + 250,
        () =>
          new PluginError(
            "DISPOSE_FAILED",
            `its unload did not finish within the ${options.timeoutMs} ms budget; its worker was terminated`,
            { plugin: this.#name, stage: "unload" },
          ),
      );
      for (const f of remote) failures.push({ step: f.step, error: new RemoteError(f.error) });
    } catch (error) {
      if (!(error instanceof PluginError && error.code === "PLUGIN_UNAVAILABLE")) {
        failures.push({ step: "unload", error });
      }
    }
    if (this.#request) failures.push(...await this.#request.scope.dispose());
    this.terminate();
    if (this.#worker instanceof ProcessWorker) await this.#worker.exited;
    return failures;
  }

  /** Ends the worker at once; what waits on it fails with `PLUGIN_UNAVAILABLE`. Idempotent. */
  terminate(): void {
    this.#end(this.#unavailable("it was stopped"));
  }

  /** A version that will never start (refused, disabled, superseded): its worker ends now. */
  discard(): void {
    this.terminate();
  }

  /** A sandboxed version's process: its id and limits (undefined for a worker). */
  get sandbox(): { pid: number; limits: NonNullable<VersionUsage["limits"]> } | undefined {
    const w = this.#worker;
    return w instanceof ProcessWorker ? { pid: w.pid, limits: { ...w.limits } } : undefined;
  }

  async usage(): Promise<VersionUsage> {
    const usage: VersionUsage = { heapBytes: this.#heapBytes, timers: this.#timers };
    if (this.#worker instanceof ProcessWorker) {
      usage.pid = this.#worker.pid;
      usage.limits = this.#worker.limits;
      usage.rssBytes = await this.#worker.rssBytes();
    }
    return usage;
  }

  /** Sends the host's current services and hooks, so `has()` and `resolve()` in the worker see them. */
  refreshDirectory(): void {
    if (this.#ports && !this.#ended) this.#rpc.notify("directory", directoryOf(this.#ports));
  }

  #unavailable(why: string): PluginError {
    return new PluginError("PLUGIN_UNAVAILABLE", `Plugin "${this.#name}" is unavailable: ${why}`, {
      plugin: this.#name,
    });
  }

  /** Ends the worker: every call waiting on it fails with `error`. */
  #end(error: PluginError): void {
    this.#ended = true;
    this.#watchdog?.stop();
    if (this.#terminated) return;
    this.#terminated = true;
    this.#rpc.close(error);
    this.#worker.terminate();
    this.#drain.check();
  }

  #crash(why: string): void {
    if (this.#terminated) return;
    // A version being stopped is no longer the plugin's live one: it is ended (its requests in flight fail, its
    // drain ends), but that is no crash of the plugin.
    const live = !this.#ended;
    const error = this.#unavailable(why);
    this.#end(error);
    if (live) this.onCrash?.(error);
  }

  /**
   * Waits for the requests in flight to finish, for `ms` at most (the
   * watchdog still ends a worker that hangs meanwhile).
   *
   * @returns false when the time ran out first
   */
  #drainFor(ms: number): Promise<boolean> {
    if (this.#terminated) return Promise.resolve(true);
    return this.#drain.wait(ms);
  }

  /** Runs a reload the worker asked for; meanwhile its drain does not wait (its requests may be waiting on it). */
  async #ownReload(reload: () => unknown): Promise<unknown> {
    this.#ownReloads++;
    this.#drain.check();
    try {
      return await reload();
    } finally {
      this.#ownReloads--;
    }
  }

  #startWatchdog(): void {
    const budget = this.#options.hangTimeout(this.#name);
    this.#watchdog = new Watchdog({
      hangTimeout: budget,
      ping: () => this.#rpc.notify("ping", { n: ++this.#ping }),
      onHang: (silent) =>
        this.#crash(
          `its worker sent nothing for ${Math.round(silent)} ms while it owed an answer, over its ${budget} ms ` +
            `budget (hangTimeout): it is stuck in one task, or it exited. If one task is that long on purpose, ` +
            `raise "hangTimeout" under "limits.${this.#name}"`,
        ),
    });
    this.#watchdog.start();
  }

  #checkMemory(heapBytes: unknown): void {
    if (typeof heapBytes === "number") this.#heapBytes = heapBytes;
    const budget = this.#options.memoryLimitMb(this.#name);
    const limit = budget * 1024 * 1024;
    if (typeof heapBytes === "number" && heapBytes > limit) {
      this.#crash(
        `its worker used ${Math.round(heapBytes / 1048576)} MB, over its ${budget} MB budget`,
      );
    }
  }
}

/** Codes a worker's error keeps when it reaches the host; anything else becomes `code`. */
const KEPT_CODES = new Set([
  "INVALID_PLUGIN",
  "IMPORT_FAILED",
  "TIMEOUT",
  "INVALID_CONFIG",
  "CONFLICT",
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "SERVICE_NOT_FOUND",
]);

function fromRemote(
  error: unknown,
  plugin: string,
  code: "IMPORT_FAILED" | "SETUP_FAILED",
  prefix?: string,
): PluginError {
  if (error instanceof PluginError) return error;
  const remote = error instanceof RemoteError ? error : undefined;
  if (remote?.code && remote.reason !== undefined && KEPT_CODES.has(remote.code)) {
    return new PluginError(remote.code as PluginErrorCode, remote.reason, { plugin, stage: "load", cause: error });
  }
  const text = remote?.reason ?? errorText(error);
  return new PluginError(code, prefix ? `${prefix}: ${text}` : text, { plugin, stage: "load", cause: error });
}

/** The issues a worker found in its plugin's functions, kept to what a worker may say: at most 10 short lines. */
function workerIssues(issues: unknown): { path: string[]; message: string }[] {
  if (!Array.isArray(issues)) return [];
  return issues.slice(0, 10).map((i) => ({
    path: Array.isArray(i?.path) ? i.path.slice(0, 5).map((k: unknown) => String(k).slice(0, 64)) : [],
    message: String(i?.message ?? "invalid").slice(0, 200),
  }));
}
