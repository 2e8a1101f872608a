/**
 * One service call for a caller in another isolate, the same on both sides
 * of a worker's channel: walk the property path the caller named (never
 * through constructors or prototypes, nor to a method's `call`, `apply` or
 * `bind`, which would let the caller pick its `this`), call the method or
 * read the property, check that the result can cross, and hand back any
 * failure with its message, its code and the name of the plugin that
 * provides the service.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import { asyncProxy, type ProxyCall } from "./async_proxy.ts";
import { assertCrossable } from "./crossing.ts";
import { RemoteError, toWireError } from "./rpc.ts";

/** A call or read as it crosses the channel. */
export interface ServiceCall {
  /** The service's name. */
  name: string;
  /** The property path: `["sub", "m"]` for `svc.sub.m()`. */
  path: string[];
  /** The arguments (empty for a read). */
  args: unknown[];
  /** A method call, or a property read (`await svc.version`). */
  kind?: "call" | "read";
}

/** Property names a caller may not walk through: they would reach `Function` or `Object` of the provider. */
const FORBIDDEN_KEYS = new Set(["constructor", "prototype", "caller", "callee", "arguments"]);
/** What a function inherits that would let the caller choose the `this` of the provider's method. */
const THIS_KEYS = new Set(["call", "apply", "bind"]);

/**
 * Runs a call or read on a service for a caller in another isolate.
 *
 * @param service the service object (or a stand-in for one in a third isolate)
 * @param call what the caller asked for
 * @param provider the plugin that provides the service, named in failures
 * @returns the result, checked to cross
 * @throws {RemoteError} what the service threw, with `plugin` set to `provider`
 * @throws {PluginError} a path the caller may not walk, a missing method, or a result that cannot cross
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runServiceCall } from "./service_calls.ts";
 * const chat = { count: () => 2, limits: { max: 10 }, fail() { throw Object.assign(new Error("no"), { code: "E1" }); } };
 * assert.equal(await runServiceCall(chat, { name: "chat", path: ["count"], args: [] }, "chat"), 2);
 * assert.equal(await runServiceCall(chat, { name: "chat", path: ["limits", "max"], args: [], kind: "read" }, "chat"), 10);
 * await assert.rejects(runServiceCall(chat, { name: "chat", path: ["fail"], args: [] }, "chat"), {
 *   message: "no",
 *   code: "E1",
 *   plugin: "chat",
 * });
 * ```
 */
export async function runServiceCall(
  service: unknown,
  call: ServiceCall,
  provider: string | undefined,
): Promise<unknown> {
  const { name, path } = call;
  let target: unknown = service;
  let self: unknown;
  for (const key of path) {
    if (
      typeof key !== "string" || FORBIDDEN_KEYS.has(key) || key.startsWith("__") ||
      (typeof target === "function" && THIS_KEYS.has(key))
    ) {
      throw new PluginError("PERMISSION_DENIED", `Service "${name}" has no method ${String(key)}`, {
        plugin: provider,
      });
    }
    self = target;
    target = (target as Record<string, unknown> | null | undefined)?.[key];
  }
  let result: unknown;
  if (call.kind === "read") {
    if (path.length === 0) {
      throw new PluginError(
        "SERVICE_VALUE",
        `Service "${name}" cannot be read whole from another isolate: call its methods or read its properties`,
        { plugin: provider },
      );
    }
    // A stand-in for a service in a third isolate reads there when awaited; a plain value is itself.
    result = await settle(() => target, provider);
    if (typeof result === "function") {
      const shown = path.join(".");
      throw new PluginError(
        "SERVICE_VALUE",
        `Service "${name}" ${shown} is a method, not a property: call it (await svc.${shown}())`,
        { plugin: provider },
      );
    }
  } else {
    if (typeof target !== "function") {
      const shown = path.join(".");
      throw new PluginError(
        "NOT_FOUND",
        `Service "${name}" has no method ${shown || "(call)"}${
          target === undefined ? "" : `: it is a ${typeof target}; read it with await svc.${shown}`
        }`,
        { plugin: provider },
      );
    }
    try {
      result = Reflect.apply(target as (...a: unknown[]) => unknown, self, call.args);
      // A method that answers at once is not awaited (a turn of the microtask queue less per call); `await` reads
      // `then` the same way.
      if (isThenable(result)) result = await result;
    } catch (error) {
      throw named(error, provider);
    }
  }
  try {
    assertCrossable(result, { service: name, path, part: "result", plugin: provider });
  } catch (error) {
    throw named(error, provider); // a getter of the result that throws is the provider's failure too
  }
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** Awaits what the service does; a failure keeps its name, message and code, and names the provider. */
async function settle(run: () => unknown, provider: string | undefined): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    throw named(error, provider);
  }
}

/** A failure of the provider's code as it crosses: its name, message and code, and the provider's name. */
function named(error: unknown, provider: string | undefined): Error {
  if (error instanceof PluginError && error.plugin !== undefined) return error;
  const wire = toWireError(error);
  return new RemoteError({ ...wire, plugin: wire.plugin ?? provider });
}

/**
 * Wraps what a stand-in sends so that a failure points at the code that
 * called it: the error is rebuilt for this call (one error may fail many
 * calls at once, as when a worker stops) as a {@linkcode RemoteError}, as a
 * caller in a worker sees it, with the caller's stack after its own. A
 * failure nobody awaited is then the calling plugin's stray failure, as it
 * would be in-process, never one that ends the host's process. Capturing
 * the caller's stack costs a few µs a call, so only the stand-ins handed to
 * in-process plugins do it (see {@linkcode tracedFor}).
 *
 * @param send sends one call or read
 * @returns the same, with the caller's stack on its failures
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromCaller } from "./service_calls.ts";
 * const send = fromCaller(() => Promise.reject(Object.assign(new Error("down"), { code: "E_DOWN" })));
 * await assert.rejects(send(["m"], [], "call"), (e: Error & { code?: string }) => {
 *   assert.equal(e.code, "E_DOWN");
 *   assert.match(String(e.stack), /service_calls/); // the caller's frames follow the error's own
 *   return true;
 * });
 * ```
 */
export function fromCaller(send: ProxyCall): ProxyCall {
  return (path, args, kind) => rebuilt(send, path, args, kind, new Error()); // its stack is formatted only on failure
}

/** Sends one call; a failure is rebuilt for it, with the caller's frames when its site was captured. */
function rebuilt(send: ProxyCall, path: string[], args: unknown[], kind: "call" | "read", site?: Error) {
  let sent: Promise<unknown>;
  try {
    sent = send(path, args, kind);
  } catch (error) {
    sent = Promise.reject(error);
  }
  return sent.catch((error) => {
    const wire = toWireError(error);
    const own = wire.stack ?? `${wire.name}: ${wire.message}`;
    const caller = site ? `\n${String(site.stack).split("\n").slice(1).join("\n")}` : "";
    throw new RemoteError({ ...wire, stack: own + caller });
  });
}

/** The twin of each stand-in that captures its callers' stacks, built on first use by an in-process plugin. */
const traced = new WeakMap<object, () => unknown>();

/**
 * The host's stand-in for a service provided in another isolate: every call
 * returns a promise, and a failure is rebuilt for each call as a
 * {@linkcode RemoteError}. The host, and plugins in other isolates calling
 * through it, get it as it is; an in-process plugin gets its twin, which
 * also keeps the caller's stack (see {@linkcode fromCaller} and
 * {@linkcode tracedFor}).
 *
 * @param send sends one call or read
 * @returns the stand-in
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serviceStandIn, tracedFor } from "./service_calls.ts";
 * const svc = serviceStandIn((path, args) => Promise.resolve(`${path.join(".")}(${args.join()})`)) as {
 *   add(a: number, b: number): Promise<string>;
 * };
 * assert.equal(await svc.add(1, 2), "add(1,2)");
 * assert.notEqual(tracedFor(svc), svc); // the twin that keeps its callers' stacks
 * assert.equal(tracedFor(svc), tracedFor(svc));
 * ```
 */
export function serviceStandIn(send: ProxyCall): unknown {
  let twin: unknown;
  const standIn = asyncProxy((path, args, kind) => rebuilt(send, path, args, kind)) as object;
  traced.set(standIn, () => twin ??= asyncProxy(fromCaller(send)));
  return standIn;
}

/**
 * What an in-process plugin gets for a resolved service: the twin of a
 * stand-in (its failures keep the plugin's frames, so one it never awaited
 * is its own stray failure), anything else as it is.
 *
 * @param service a resolved service
 * @returns the twin of a stand-in, or `service`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tracedFor } from "./service_calls.ts";
 * const local = { add: (a: number, b: number) => a + b };
 * assert.equal(tracedFor(local), local);
 * ```
 */
export function tracedFor<T>(service: T): T {
  if ((typeof service !== "object" && typeof service !== "function") || service === null) return service;
  return (traced.get(service)?.() ?? service) as T;
}
