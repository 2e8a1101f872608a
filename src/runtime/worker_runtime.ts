/**
 * The worker runtime: each plugin version runs in its own Worker with only
 * the Deno permissions its manifest declares. The host side of each version
 * registers stand-ins in the host's tables (listeners that deliver to the
 * worker, async service proxies, routers that forward requests, middleware
 * and hook wrappers that call across), watches the worker with heartbeats
 * and a memory budget, and terminates it on stop, on a hang or on a crash.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MiddlewareHandler } from "hono";
import { PluginError, type PluginErrorCode } from "../errors.ts";
import type { ErrorOrigin } from "../event_types.ts";
import type { EmitResult } from "../events.ts";
import {
  assertHostGrants,
  describePermissions,
  mayEmit,
  mergePermissions,
  type PluginPermissions,
  workerPermissions,
} from "../plugin_permissions.ts";
import type { DisposeFailure } from "../scope.ts";
import { withTimeout } from "../timeout.ts";
import { asyncProxy } from "./async_proxy.ts";
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
import { fromWireResponse, toWireRequest, type WireResponse } from "./wire_http.ts";
import type { WorkerStart } from "./worker_main.ts";
import type { RouteSpec } from "./worker_tables.ts";

const WORKER_URL = new URL("./worker_main.ts", import.meta.url);
/** Log levels a worker may use (it is not trusted to name a method). */
const LOG_LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
/** Origins a worker may report (it is not trusted to send anything else). */
const ORIGINS = new Set<string>(["event", "route", "middleware", "setup", "dispose", "timer", "hook", "unhandled"]);
const ROOT = new URL("../../", import.meta.url);
/** What an isolated plugin may read of plugboard itself, to import it. */
const CODE_ROOTS = [fileURLToPath(new URL("mod.ts", ROOT)), fileURLToPath(new URL("src/", ROOT))];

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
    await assertHostGrants(name, granted);
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
  /** Removers of what the worker registered, by kind and id. */
  #removers = new Map<string, () => void>();
  #nextCallId = 1;
  /** Host-side `next` functions of hook calls and middleware in flight, by call id. */
  #nexts = new Map<number, (...args: unknown[]) => unknown>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastPong = 0;
  #ping = 0;
  #ended = false;

  constructor(worker: Worker, granted: Deno.PermissionOptionsObject, options: WorkerRuntimeOptions) {
    this.#worker = worker;
    this.granted = granted;
    this.#options = options;
    this.#rpc = new Rpc(worker, this.#handlers());
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
      this.#rpc.call<{ manifest: PluginManifest; hasConfigSchema: boolean }>("import", {
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
    this.manifest = loaded.manifest;
    this.hasConfigSchema = loaded.hasConfigSchema;
    this.#name = loaded.manifest.name;
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

  /** Registers a stand-in in the version's scope; `key` lets the worker withdraw it. */
  #register(key: string, activate: () => (() => void) | void): void {
    const scope = this.#request?.scope;
    if (!scope || this.#ended) return;
    let remove: (() => void) | void;
    let gone = false;
    scope.register({
      activate: () => {
        if (gone) return;
        try {
          remove = activate();
        } catch (error) {
          this.#ports?.report({ origin: "setup", plugin: this.#name, error });
        }
      },
      deactivate: () => {
        gone = true;
        remove?.();
      },
    });
    this.#removers.set(key, () => {
      gone = true;
      remove?.();
      this.#removers.delete(key);
    });
  }

  #withdraw(key: string): void {
    this.#removers.get(key)?.();
  }

  #handlers() {
    const ports = () => this.#ports!;
    const owner = () => this.#name;
    return {
      listen: (p: { id: number; event: string; once: boolean }) =>
        this.#register(`listen:${p.id}`, () =>
          ports().events.on(
            p.event as "system.error",
            (payload: unknown, event: string) => this.#rpc.call("deliver", { id: p.id, event, payload }),
            { owner: owner(), once: p.once },
          )),
      unlisten: (p: { id: number }) => this.#withdraw(`listen:${p.id}`),
      emit: (p: { event: string; payload: unknown }) => {
        if (this.#ended) return;
        const refused = this.#refuseEmit(p.event);
        if (refused) ports().report({ origin: "event", plugin: owner(), event: p.event, error: refused });
        else ports().events.emit(p.event as "system.error", p.payload as never);
      },
      emitAsync: (p: { event: string; payload: unknown }): Promise<EmitResult> => {
        const refused = this.#refuseEmit(p.event);
        if (refused) return Promise.reject(refused);
        return ports().events.emitAsync(p.event as "system.error", p.payload as never);
      },
      provide: (p: { name: string }) =>
        this.#register(`service:${p.name}`, () => {
          const proxy = asyncProxy((path, args) => this.#rpc.call("callService", { name: p.name, path, args }));
          ports().services.provide(p.name as never, proxy as never, { owner: owner() });
          return () => ports().services.remove(p.name, owner());
        }),
      unprovide: (p: { name: string }) => this.#withdraw(`service:${p.name}`),
      callService: async (p: { name: string; path: string[]; args: unknown[] }) => {
        let target: unknown = ports().services.resolve(p.name, { requester: owner() });
        let self: unknown;
        for (const key of p.path) {
          self = target;
          target = (target as Record<string, unknown>)?.[key];
        }
        if (typeof target !== "function") {
          return p.args.length
            ? Promise.reject(new TypeError(`Service "${p.name}" has no method ${p.path.join(".")}`))
            : target;
        }
        return await (target as (...a: unknown[]) => unknown).apply(self, p.args);
      },
      define: (p: { name: string }) =>
        this.#register(
          `hook:${p.name}`,
          () =>
            ports().hooks.define(
              p.name as never,
              ((...args: unknown[]) => this.#rpc.call("hookImpl", { name: p.name, args })) as never,
              { owner: owner() },
            ),
        ),
      undefine: (p: { name: string }) => this.#withdraw(`hook:${p.name}`),
      wrap: (p: { id: number; name: string }) =>
        this.#register(
          `wrap:${p.id}`,
          () =>
            ports().hooks.wrap(
              p.name as never,
              ((next: (...a: unknown[]) => unknown) => (...args: unknown[]) => {
                const callId = this.#nextCallId++;
                this.#nexts.set(callId, next);
                return this.#rpc.call("hookWrapper", { id: p.id, callId, args }).finally(() =>
                  this.#nexts.delete(callId)
                );
              }) as never,
              { owner: owner() },
            ),
        ),
      unwrap: (p: { id: number }) => this.#withdraw(`wrap:${p.id}`),
      callNext: (p: { callId: number; args: unknown[] }) => {
        const next = this.#nexts.get(p.callId);
        if (!next) throw new PluginError("NOT_FOUND", "That hook call has already finished");
        return next(...p.args);
      },
      callHook: (p: { name: string; args: unknown[] }) => ports().hooks.call(p.name as never, ...(p.args as never[])),
      mount: (p: { routes: RouteSpec[] }) =>
        this.#register("router", () => {
          const router = ports().routes.createRouter(owner());
          const forward = this.#forward();
          for (const r of p.routes) {
            // Routes are announced with their full path; the stand-in router has the same base path.
            const base = `/api/plugins/${owner()}`;
            const path = r.path.startsWith(base) ? r.path.slice(base.length) || "/" : r.path;
            if (r.method === "ALL") router.all(path, forward);
            else router.on(r.method, path, forward);
          }
          ports().routes.mount(owner(), router);
          return () => ports().routes.unmount(owner(), router);
        }),
      unmount: () => this.#withdraw("router"),
      middleware: (p: { id: number }) =>
        this.#register(`middleware:${p.id}`, () => ports().routes.addMiddleware(owner(), this.#middleware(p.id))),
      unmiddleware: (p: { id: number }) => this.#withdraw(`middleware:${p.id}`),
      middlewareNext: (p: { callId: number }) => {
        const next = this.#nexts.get(p.callId);
        if (!next) throw new PluginError("NOT_FOUND", "That request has already finished");
        return next();
      },
      log: (p: { level: "debug" | "info" | "warn" | "error"; name: string; message: string; args: unknown[] }) => {
        if (!LOG_LEVELS.has(p.level)) return;
        const name = typeof p.name === "string" && p.name !== "plugboard" ? p.name : owner();
        ports().log.child(name)[p.level](String(p.message), ...(Array.isArray(p.args) ? p.args : []));
      },
      report: (p: { origin: string; event?: string; error: { name: string; message: string; code?: string } }) =>
        ports().report({
          origin: ORIGINS.has(p.origin) ? p.origin as ErrorOrigin : "worker",
          plugin: owner(),
          event: p.event,
          error: new RemoteError(p.error),
        }),
      reload: () => ports().reload(owner()),
      pong: (p: { n: number; heapBytes: number }) => this.#handlersPong(p.heapBytes),
    };
  }

  /** Why the plugin may not emit an event (the worker is not trusted to check), or undefined. */
  #refuseEmit(event: unknown): PluginError | undefined {
    if (typeof event === "string" && mayEmit(this.#name, this.manifest.emits, event)) return undefined;
    return new PluginError(
      "PERMISSION_DENIED",
      `Plugin "${this.#name}" may not emit ${JSON.stringify(event)}: an isolated plugin emits its own events ` +
        `("${this.#name}.*") and those named in "emits" of its manifest; system.* and plugin.* belong to the host`,
      { plugin: this.#name },
    );
  }

  /** A route handler that forwards the request to the worker. */
  #forward(): MiddlewareHandler {
    return async (c) => {
      try {
        const wire = await this.#rpc.call<WireResponse>("fetch", toWireRequest(c.req.raw));
        return fromWireResponse(wire);
      } catch (error) {
        if (error instanceof PluginError && error.code === "PLUGIN_UNAVAILABLE") {
          return problemOf(error, { "retry-after": "1" });
        }
        throw error instanceof RemoteError ? error : error;
      }
    };
  }

  /** Host-wide middleware that runs in the worker; `next()` there continues here. */
  #middleware(id: number): MiddlewareHandler {
    return async (c, next) => {
      const callId = this.#nextCallId++;
      let nextCalled = false;
      this.#nexts.set(callId, async () => {
        nextCalled = true;
        await next();
        return { status: c.res.status, headers: [...c.res.headers], routePath: c.req.routePath };
      });
      let wire: WireResponse;
      try {
        wire = await this.#rpc.call<WireResponse>("middleware", {
          id,
          callId,
          request: toWireRequest(c.req.raw, false).value,
        });
      } finally {
        this.#nexts.delete(callId);
      }
      const res = fromWireResponse(wire);
      if (!nextCalled) return res;
      const changed = res.status !== c.res.status ||
        [...res.headers].some(([k, v]) => c.res.headers.get(k) !== v);
      if (changed) c.res = new Response(c.res.body, { status: res.status, headers: res.headers });
    };
  }
}

function directoryOf(ports: HostPorts) {
  const services: Record<string, string> = {};
  for (const name of ports.services.names()) services[name] = ports.services.owner(name) ?? "host";
  return { services, hooks: ports.hooks.names().filter((n) => ports.hooks.has(n)) };
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
  const text = remote?.reason ?? (error as Error)?.message ?? String(error);
  return new PluginError(code, prefix ? `${prefix}: ${text}` : text, { plugin, stage: "load", cause: error });
}

function problemOf(error: PluginError, headers: Record<string, string>): Response {
  return new Response(
    JSON.stringify({
      type: "about:blank",
      status: error.status,
      title: error.code,
      detail: error.message,
      plugin: error.plugin,
    }),
    { status: error.status, headers: { ...headers, "content-type": "application/problem+json" } },
  );
}
