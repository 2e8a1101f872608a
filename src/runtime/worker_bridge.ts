/**
 * The host side of a plugin's worker: what the worker announces (listeners,
 * services, hooks, routes, middleware) becomes a stand-in registered in the
 * version's host-side scope, and the worker's calls back (emit, resolve,
 * call a hook, next(), log, report) are answered here. Every message is
 * checked, since code in the worker is not trusted.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { PermissionError, PluginError } from "../errors.ts";
import type { ErrorOrigin } from "../event_types.ts";
import type { EmitResult } from "../events.ts";
import { mayEmit } from "../emit_rules.ts";
import { assertCrossable } from "./crossing.ts";
import { visiblePayload } from "./event_visibility.ts";
import { EmitQueue, pluginBudgets, type RateBudget } from "./rate_budget.ts";
import { runServiceCall, type ServiceCall, serviceStandIn } from "./service_calls.ts";
import { RemoteError, type Rpc, type RpcHandler, Transfer } from "./rpc.ts";
import type { HostPorts, StartRequest } from "./runtime.ts";
import {
  afterMiddleware,
  fromWireResponse,
  headerPairs,
  problemResponse,
  readWireRequest,
  toWireRequest,
  type WireResponse,
} from "./wire_http.ts";
import type { RouteSpec } from "./worker_tables.ts";
import { type DirectFetch, markDirect } from "../http/direct_routes.ts";
import type { PluginRouter } from "../routes.ts";
import { formatLogValue } from "../log_escape.ts";
import { emitAsyncFrom, emitFrom } from "../metrics/tapped_bus.ts";
import { mcpBridgeHandlers } from "../mcp/bridge_mcp.ts";
import { batchedObserver } from "./worker_observer.ts";

/** Log levels a worker may use (it is not trusted to name a method). */
const LOG_LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
/** The part of a child logger's name kept after `<plugin>:` (anything else shows as the plugin's name alone). */
const LOG_PART_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/i;
/** Origins a worker may report (it is not trusted to send anything else). */
// deno-fmt-ignore
const ORIGINS = new Set<string>(["event", "route", "middleware", "observer", "setup", "dispose", "timer", "hook", "unhandled"]);

/** What the bridge reads of its version. */
export interface BridgedVersion {
  rpc(): Rpc;
  name(): string;
  emits(): readonly string[];
  /** What of the host's events about other plugins it may see (`permissions.observe`). */
  observes(): readonly string[];
  /** What it may do to every plugin's HTTP traffic (`permissions.hostWide`). */
  hostWide(): readonly string[];
  ports(): HostPorts | undefined;
  request(): StartRequest | undefined;
  /** No longer the live version (replaced, unloading, stopped): it registers nothing more. */
  ended(): boolean;
  /** Its worker is terminated: what it still sends is dropped. Until then it may emit, as its teardown does in-process. */
  gone(): boolean;
  /** Its own emit and log rates, when the operator set them. */
  rates?(): { emits?: number; logs?: number };
}

/** Stand-ins for one worker's registrations, and answers to its calls. */
export class WorkerBridge {
  #v: BridgedVersion;
  /** Removers of what the worker registered, by kind and id. */
  #removers = new Map<string, () => void>();
  #nextCallId = 1;
  /** Host-side `next` functions of hook calls and middleware in flight, by call id. */
  #nexts = new Map<number, (...args: unknown[]) => unknown>();
  /** What it may emit, log and report per second (see `rate_budget.ts`). */
  #emitBudget: RateBudget;
  #logBudget: RateBudget;
  /** Its events, sent within its budget; those over it wait, a second's budget at most. */
  #emits: EmitQueue;
  /** Senders of the response records waiting for the worker, by observer id. */
  #flushes = new Map<number, () => void>();

  /** @param version the version whose worker this bridges */
  constructor(version: BridgedVersion) {
    this.#v = version;
    ({ emits: this.#emitBudget, logs: this.#logBudget } = pluginBudgets(version));
    this.#emits = new EmitQueue(this.#emitBudget, () => version.gone(), (p) => {
      const ports = version.ports();
      if (!ports) return;
      const refused = this.#refuseEmit(p.event);
      if (refused) ports.report({ origin: "event", plugin: version.name(), event: p.event, error: refused });
      else emitFrom(ports.events, version.name(), p.event as "system.error", p.payload as never);
    });
  }

  /** Registers a stand-in in the version's scope; `key` lets the worker withdraw it. */
  #register(key: string, activate: () => (() => void) | void): void {
    const scope = this.#v.request()?.scope;
    if (!scope || this.#v.ended()) return;
    let remove: (() => void) | void;
    let gone = false;
    // Each stand-in is removed once: a withdrawal from the worker after the scope was deactivated (the old version
    // of a reload stopping) must not remove what the new version registered under the same name.
    const takeRemover = () => {
      const r = remove;
      remove = undefined;
      return r;
    };
    // Staged registrations are activated by the scope's commit, which collects what fails (the lifecycle fails a
    // version whose names are taken); one made while the scope is live is activated here, and a failure reported.
    let registering = true;
    scope.register({
      activate: () => {
        if (gone) return;
        try {
          remove = activate();
        } catch (error) {
          if (!registering) throw error;
          this.#v.ports()?.report({ origin: "setup", plugin: this.#v.name(), error });
        }
      },
      deactivate: () => {
        gone = true;
        takeRemover()?.();
      },
    });
    registering = false;
    this.#removers.set(key, () => {
      gone = true;
      takeRemover()?.();
      this.#removers.delete(key);
    });
  }

  #withdraw(key: string): void {
    this.#removers.get(key)?.();
  }

  /** The calls and notes a worker may send, each checked: the worker is not trusted. */
  handlers(): Record<string, RpcHandler> {
    const ports = () => this.#v.ports()!;
    const owner = () => this.#v.name();
    return {
      listen: (p: { id: number; event: string; once: boolean }) =>
        this.#register(`listen:${p.id}`, () =>
          ports().events.on(
            p.event as "system.error",
            (payload: unknown, event: string) =>
              this.#v.rpc().call("deliver", {
                id: p.id,
                event,
                payload: visiblePayload(owner(), this.#v.observes(), event, payload),
              }),
            { owner: owner(), once: p.once },
          )),
      unlisten: (p: { id: number }) => this.#withdraw(`listen:${p.id}`),
      emit: (p: { event: string; payload: unknown }) => {
        if (!this.#v.gone()) this.#emits.push(p);
      },
      emitAsync: (p: { event: string; payload: unknown }): Promise<EmitResult> => {
        if (!this.#emitBudget.take()) {
          const why = `Plugin "${owner()}" is over its budget of ${this.#emitBudget.limit} events per second`;
          return Promise.reject(new PluginError("RATE_LIMITED", why, { plugin: owner() }));
        }
        const refused = this.#refuseEmit(p.event);
        if (refused) return Promise.reject(refused);
        return emitAsyncFrom(ports().events, owner(), p.event as "system.error", p.payload as never);
      },
      provide: (p: { name: string }) =>
        this.#register(`service:${p.name}`, () => {
          const proxy: unknown = serviceStandIn((path, args, kind) => {
            const call: ServiceCall = { name: p.name, path, args, kind };
            // Held past its version (the host or an in-process plugin resolved it before a reload or restart): the
            // call goes to the plugin's live version, as a worker's own proxies do by resolving the name each time.
            const live = this.#v.ended() ? ports().services.tryResolve(p.name) : undefined;
            if (live !== undefined && live !== proxy && ports().services.owner(p.name) === owner()) {
              return runServiceCall(live, call, owner());
            }
            assertCrossable(args, { service: p.name, path, part: "arguments" });
            return this.#v.rpc().call("callService", call);
          });
          ports().services.provide(p.name as never, proxy as never, { owner: owner() });
          return () => {
            // By identity: a stand-in of another version under the same name and owner is not this one's to remove.
            if (ports().services.tryResolve(p.name) === proxy) ports().services.remove(p.name, owner());
          };
        }),
      unprovide: (p: { name: string }) => this.#withdraw(`service:${p.name}`),
      callService: (p: ServiceCall) => {
        const service = ports().services.resolve(p.name, { requester: owner() });
        return runServiceCall(service, p, ports().services.owner(p.name));
      },
      define: (p: { name: string }) =>
        this.#register(
          `hook:${p.name}`,
          () =>
            ports().hooks.define(
              p.name as never,
              ((...args: unknown[]) => this.#v.rpc().call("hookImpl", { name: p.name, args })) as never,
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
                return this.#v.rpc().call("hookWrapper", { id: p.id, callId, args }).finally(() =>
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
          const forward = this.#forward(router);
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
        this.#register(`middleware:${p.id}`, () => {
          this.#requireHostWide("middleware", "ctx.middleware");
          return ports().routes.addMiddleware(owner(), this.#middleware(p.id));
        }),
      unmiddleware: (p: { id: number }) => this.#withdraw(`middleware:${p.id}`),
      observe: (p: { id: number }) =>
        // One observer per id: a worker repeating an id would leave the first one unremovable until unload.
        this.#removers.has(`observe:${p.id}`) ? undefined : this.#register(`observe:${p.id}`, () => {
          this.#requireHostWide("responses", "ctx.onResponse");
          const { observer, flush } = batchedObserver((columns) => {
            // Strings and numbers only, built here: sent without the channel's trial clone.
            if (!this.#v.ended()) this.#v.rpc().notify("responses", new Transfer({ id: p.id, columns }, []));
          });
          const remove = ports().routes.addObserver(owner(), observer);
          this.#flushes.set(p.id, flush);
          return () => {
            remove();
            flush();
            this.#flushes.delete(p.id);
          };
        }),
      unobserve: (p: { id: number }) => this.#withdraw(`observe:${p.id}`),
      middlewareNext: (p: { callId: number }) => {
        const next = this.#nexts.get(p.callId);
        if (!next) throw new PluginError("NOT_FOUND", "That request has already finished");
        return next();
      },
      log: (p: { level: "debug" | "info" | "warn" | "error"; name: unknown; message: unknown; args: unknown }) => {
        // The host names the line, never the worker: a plugin's own name, or `<name>:<part>` for a child logger
        // it named so. The text is escaped to one line (the logger escapes message and strings; values become text).
        const log = this.#v.ports()?.log;
        if (!log || !LOG_LEVELS.has(p?.level) || !this.#logBudget.take()) return;
        const part = typeof p.name === "string" && p.name.startsWith(`${owner()}:`)
          ? p.name.slice(owner().length + 1)
          : "";
        const name = LOG_PART_RE.test(part) ? `${owner()}:${part}` : owner();
        const args = Array.isArray(p.args) ? p.args.map(formatLogValue) : [];
        log.child(name)[p.level](typeof p.message === "string" ? p.message : formatLogValue(p.message), ...args);
      },
      report: (p: { origin: string; event?: string; error: { name: string; message: string; code?: string } }) =>
        this.#logBudget.take() && ports().report({
          origin: ORIGINS.has(p.origin) ? p.origin as ErrorOrigin : "worker",
          plugin: owner(),
          event: p.event,
          error: new RemoteError(p.error),
        }),
      reload: () => ports().reload(owner()),
      ...mcpBridgeHandlers(this.#v, { register: (k, a) => this.#register(k, a), withdraw: (k) => this.#withdraw(k) }),
    };
  }

  /** Refuses a host-wide registration the manifest does not declare in `permissions.hostWide`. */
  #requireHostWide(kind: "middleware" | "responses", call: string): void {
    if (this.#v.hostWide().includes(kind)) return;
    const name = this.#v.name();
    throw new PermissionError(
      `${call} acts on every plugin's requests, not only its own routes: declare it in the manifest as ` +
        `permissions: { hostWide: ["${kind}"] } (the operator sees it in the startup table and approves it)`,
      `permissions.hostWide: ["${kind}"]`,
      { plugin: name },
    );
  }

  /** Why the plugin may not emit an event (the worker is not trusted to check), or undefined. */
  #refuseEmit(event: unknown): PluginError | undefined {
    const name = this.#v.name();
    const claimedBy = (e: string) => this.#v.ports()?.emitClaimant?.(name, e);
    if (typeof event === "string" && mayEmit(name, this.#v.emits(), event, claimedBy)) return undefined;
    const owner = typeof event === "string" ? claimedBy(event) : undefined;
    return new PluginError(
      "PERMISSION_DENIED",
      `Plugin "${name}" may not emit ${JSON.stringify(event)}: an isolated plugin emits its own events ` +
        `("${name}.*") and those named in "emits" of its manifest; system.* and plugin.* belong to the host` +
        (owner ? `; plugin "${owner}" declares this one, so declare it in "emits" if yours is meant to` : ""),
      { plugin: name },
    );
  }

  /**
   * A route handler that forwards the request to the worker. A request that
   * reaches it after its router was replaced or unmounted (it matched before
   * a reload or unload, then waited in a middleware) is the plugin's live
   * version's, or 404: never sent to a worker that is stopping.
   */
  #forward(router: PluginRouter): MiddlewareHandler {
    const direct: DirectFetch = (request, failed) => {
      const live = this.#v.ports()?.routes.get(this.#v.name());
      return live === router ? this.#send(request, failed) : undefined;
    };
    const handler = async (c: Context) => {
      const routes = this.#v.ports()?.routes;
      const live = routes?.get(this.#v.name());
      if (live !== router) return live ? live.fetch(c.req.raw, c.env) : c.notFound();
      const res = await this.#send(c.req.raw);
      // Only a host-wide middleware can have set headers before next(): without one, the answer as it came.
      if (!routes?.middleware.length) return res;
      // Through the context, as in-process: those headers kept under the route's own (its status text put back).
      const answer = c.newResponse(res.body, res);
      if (!res.statusText) return answer;
      return new Response(answer.body, { status: answer.status, statusText: res.statusText, headers: answer.headers });
    };
    return markDirect(handler as MiddlewareHandler, direct);
  }

  /**
   * Sends a request to the worker and rebuilds its answer; a worker that is
   * gone answers 503, any other failure is `failed`'s to answer (or thrown).
   */
  async #send(request: Request, failed?: (error: Error) => Response): Promise<Response> {
    try {
      const sent = request.body ? await readWireRequest(request) : toWireRequest(request);
      return fromWireResponse(await this.#v.rpc().call<WireResponse>("fetch", sent));
    } catch (error) {
      if (error instanceof PluginError && error.code === "PLUGIN_UNAVAILABLE") {
        return problemResponse(error, { "retry-after": "1" });
      }
      if (!failed) throw error;
      return failed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Sends the worker every response record still waiting here. */
  flush(): void {
    for (const flush of this.#flushes.values()) flush();
  }

  /** Host-wide middleware that runs in the worker; `next()` there continues here. */
  #middleware(id: number): MiddlewareHandler {
    return async (c, next) => {
      const callId = this.#nextCallId++;
      let nextCalled = false;
      this.#nexts.set(callId, async () => {
        nextCalled = true;
        await next();
        return { status: c.res.status, headers: headerPairs(c.res.headers), routePath: c.req.routePath };
      });
      let wire: WireResponse;
      try {
        wire = await this.#v.rpc().call<WireResponse>("middleware", {
          id,
          callId,
          request: toWireRequest(c.req.raw, false).value,
        });
      } catch (error) {
        // Its worker is gone (crashed, hung, restarting): other plugins' routes do not fail with it. The request goes on
        // without this middleware, as it would once the plugin is unloaded.
        if (!(error instanceof PluginError && error.code === "PLUGIN_UNAVAILABLE")) throw error;
        if (!nextCalled) await next();
        return;
      } finally {
        this.#nexts.delete(callId);
      }
      const res = fromWireResponse(wire);
      if (!nextCalled) return res;
      const after = afterMiddleware(c.res, res);
      if (after) c.res = after;
    };
  }
}
