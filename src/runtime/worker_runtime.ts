/**
 * The worker runtime: each plugin version runs in its own Worker with only
 * the Deno permissions its manifest declares. A version's host side drives
 * its worker (import, config, setup, handover, stop), watches it with
 * heartbeats and a memory budget, and terminates it on stop, on a hang or on
 * a crash; `worker_bridge.ts` turns what the worker registers into stand-ins
 * in the host's tables.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PluginError, type PluginErrorCode } from "../errors.ts";
import {
  assertHostGrants,
  describePermissions,
  mergePermissions,
  type PluginPermissions,
  workerPermissions,
} from "../plugin_permissions.ts";
import type { DisposeFailure } from "../scope.ts";
import { withTimeout } from "../timeout.ts";
import { validateManifest } from "../manifest.ts";
import { RemoteError, Rpc } from "./rpc.ts";
import type {
  ConfigValidation,
  HostPorts,
  ImportRequest,
  PluginManifest,
  PluginRuntime,
  PluginVersion,
  StartRequest,
} from "./runtime.ts";
import { directoryOf, WorkerBridge } from "./worker_bridge.ts";
import type { WorkerStart } from "./worker_main.ts";
import { errorText } from "../error_text.ts";

const WORKER_URL = new URL("./worker_main.ts", import.meta.url);

const ROOT = new URL("../../", import.meta.url);
/** What an isolated plugin may read of plugboard itself, to import it. */
const CODE_ROOTS = ["mod.ts", "plugin.ts", "src/"].map((p) => fileURLToPath(new URL(p, ROOT)));
/** plugboard's own folder: what a refusal asks the operator to make readable, rather than its files one by one. */
const CODE_ROOT = fileURLToPath(ROOT);

/** Options for {@linkcode WorkerRuntime}. */
export interface WorkerRuntimeOptions {
  /** Where plugins' data folders live: `<dataDir>/plugins/<name>/`. */
  dataDir: string;
  /** How long a worker may miss heartbeats, in ms. */
  heartbeatTimeout: number;
  /** The heap (plus external memory) a worker may use, in MB. */
  memoryLimitMb: number;
  /** Permissions the operator grants on top of each manifest, by plugin name. */
  grants?: Readonly<Record<string, PluginPermissions>>;
}

/**
 * Runs each plugin version in its own Worker.
 *
 * A first worker imports the module with the least permissions (its code
 * and its data folder) to read the manifest; when the manifest declares
 * more, the host checks it holds them and a second worker is started with
 * exactly those, so a plugin's top-level code never runs with permissions it
 * did not declare.
 */
export class WorkerRuntime implements PluginRuntime {
  /** Plugins run in their own Worker. */
  readonly kind = "worker" as const;
  #options: WorkerRuntimeOptions;

  /** @param options data folder, heartbeat and memory budgets */
  constructor(options: WorkerRuntimeOptions) {
    this.#options = options;
  }

  /**
   * Imports a plugin in a fresh worker and reads its manifest.
   *
   * @param request what to import, and where it comes from
   * @returns the version, not set up
   * @throws {PluginError} `IMPORT_FAILED`, `TIMEOUT`, `INVALID_PLUGIN` or `PERMISSION_DENIED`
   */
  async import(request: ImportRequest): Promise<PluginVersion> {
    const first = await this.#spawn(request, request.hint, {});
    const { name } = first.manifest;
    const permissions = mergePermissions(first.manifest.permissions, this.#options.grants?.[name] ?? {});
    if (name === request.hint && describePermissions(permissions) === "none") return first;
    first.terminate();
    const second = await this.#spawn(request, name, permissions);
    if (second.manifest.name !== name) {
      second.terminate();
      throw new PluginError("INVALID_PLUGIN", `its manifest changed while it loaded (now "${second.manifest.name}")`, {
        plugin: name,
        stage: "load",
      });
    }
    return second;
  }

  async #spawn(
    request: ImportRequest,
    name: string,
    permissions: PluginManifest["permissions"],
  ): Promise<WorkerVersion> {
    const granted = workerPermissions(permissions, {
      pluginDir: request.pluginDir,
      dataDir: join(this.#options.dataDir, "plugins", name),
      sourceHost: request.sourceHost,
      codeRoots: CODE_ROOTS,
    });
    await assertHostGrants(name, granted, CODE_ROOT);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_URL, { type: "module", name: `plugin:${name}`, deno: { permissions: granted } });
    } catch (cause) {
      throw new PluginError(
        "PERMISSION_DENIED",
        `cannot start its worker: ${(cause as Error)?.message ?? cause}. Run Deno with --unstable-worker-options ` +
          `(and the permissions the plugin needs), or run it in-process by naming it in "trusted"`,
        { plugin: request.hint, stage: "load", cause },
      );
    }
    const version = new WorkerVersion(worker, granted, this.#options);
    try {
      await version.load(request);
    } catch (error) {
      version.terminate();
      throw error;
    }
    return version;
  }
}

class WorkerVersion implements PluginVersion {
  manifest!: PluginManifest;
  hasConfigSchema = false;
  onCrash?: (error: PluginError) => void;
  readonly granted: Deno.PermissionOptionsObject;
  #worker: Worker;
  #rpc: Rpc;
  #options: WorkerRuntimeOptions;
  #name = "plugin";
  #ports: HostPorts | undefined;
  #request: StartRequest | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastPong = 0;
  #ping = 0;
  #ended = false;
  #bridge: WorkerBridge;

  constructor(worker: Worker, granted: Deno.PermissionOptionsObject, options: WorkerRuntimeOptions) {
    this.#worker = worker;
    this.granted = granted;
    this.#options = options;
    const bridge = this.#bridge = new WorkerBridge({
      rpc: () => this.#rpc,
      name: () => this.#name,
      emits: () => this.manifest?.emits ?? [],
      ports: () => this.#ports,
      request: () => this.#request,
      ended: () => this.#ended,
    });
    this.#rpc = new Rpc(worker, {
      ...bridge.handlers(),
      pong: (p: { heapBytes: number }) => this.#handlersPong(p?.heapBytes),
    });
    worker.onmessage = (e) => this.#rpc.receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.#crash(`its worker failed: ${e.message}`);
    };
    worker.onmessageerror = () => this.#crash("its worker sent a message that could not be read");
  }

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
      setupTimeout: request.setupTimeout,
      dataDir: request.dataDir,
      refuseStrayFailures: request.refuseStrayFailures ?? false,
      directory: directoryOf(ports),
      meta: { name: this.manifest.name, version: this.manifest.version, emits: [...this.manifest.emits] },
    };
    try {
      await withTimeout(
        this.#rpc.call("start", start),
        request.setupTimeout + 250,
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
    this.#startHeartbeat();
  }

  async handover(): Promise<unknown> {
    return await this.#rpc.call("handover");
  }

  async stop(options: { timeoutMs: number }): Promise<DisposeFailure[]> {
    // What the plugin's response observers have not been told yet arrives before its teardown runs.
    this.#bridge.flush();
    this.#ended = true;
    clearInterval(this.#heartbeat);
    const failures: DisposeFailure[] = [];
    try {
      const remote = await withTimeout(
        this.#rpc.call<{ step: string; error: { name: string; message: string; code?: string } }[]>("stop", options),
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
    return failures;
  }

  terminate(): void {
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.#rpc.close(this.#unavailable("it was stopped"));
    this.#worker.terminate();
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

  #crash(why: string): void {
    if (this.#ended) return;
    const error = this.#unavailable(why);
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.#rpc.close(error);
    this.#worker.terminate();
    this.onCrash?.(error);
  }

  #startHeartbeat(): void {
    const budget = this.#options.heartbeatTimeout;
    const limit = this.#options.memoryLimitMb * 1024 * 1024;
    this.#lastPong = performance.now();
    this.#handlersPong = (heapBytes: number) => {
      this.#lastPong = performance.now();
      if (heapBytes > limit) {
        this.#crash(
          `its worker used ${Math.round(heapBytes / 1048576)} MB, over its ${this.#options.memoryLimitMb} MB budget`,
        );
      }
    };
    this.#heartbeat = setInterval(() => {
      const silent = performance.now() - this.#lastPong;
      if (silent > budget) {
        this.#crash(`its worker did not answer heartbeats for ${Math.round(silent)} ms (budget ${budget} ms)`);
        return;
      }
      this.#rpc.notify("ping", { n: ++this.#ping });
    }, Math.max(25, Math.floor(budget / 4)));
  }

  #handlersPong: (heapBytes: number) => void = () => {};
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
