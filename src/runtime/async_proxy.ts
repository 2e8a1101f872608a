/**
 * A stand-in for a service that lives in another isolate: any property path
 * can be called, and every call returns a promise of the result. Awaiting a
 * property (`await svc.version`) reads it on the other side; the service
 * itself is not awaitable, so returning it from an async function or
 * resolving a promise with it keeps the stand-in.
 *
 * @module
 */

/** What a stand-in sends: a call of the method at `path`, or a read of the property there. */
export type ProxyCall = (path: string[], args: unknown[], kind: "call" | "read") => Promise<unknown>;

/**
 * Builds the proxy.
 *
 * @param call sends one call or read: the property path and the arguments
 * @returns a callable proxy; `await proxy.a.b(1)` calls `a.b(1)` on the other side, `await proxy.a.c` reads `a.c`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asyncProxy } from "./async_proxy.ts";
 * const calc = asyncProxy((path, args, kind) =>
 *   Promise.resolve(kind === "read" ? `read ${path.join(".")}` : `${path.join(".")}(${args.join()})`)
 * ) as { math: { add(a: number, b: number): Promise<string>; pi: Promise<string> } };
 * assert.equal(await calc.math.add(1, 2), "math.add(1,2)");
 * assert.equal(await calc.math.pi, "read math.pi");
 * ```
 */
export function asyncProxy(call: ProxyCall): unknown {
  const at = (path: readonly string[]): unknown => {
    // The service's own methods are kept for the next call (`svc.add(...)` in a loop builds no new proxy), up to a
    // bound; deeper paths are built anew. A path may come from a plugin in another isolate (a service call walks
    // the host's stand-in), so nothing it names may stay past its call beyond that bound.
    const children = path.length === 0 ? new Map<string, unknown>() : undefined;
    return new Proxy(function () {}, {
      get(_target, key) {
        if (typeof key === "symbol") return undefined;
        if (key === "then") {
          // The service itself is not a thenable (`await resolve(...)` must give the stand-in); a property is.
          if (path.length === 0) return undefined;
          return (onValue?: (v: unknown) => unknown, onError?: (e: unknown) => unknown) =>
            call([...path], [], "read").then(onValue, onError);
        }
        let child = children?.get(key);
        if (child === undefined) {
          child = at([...path, key]);
          if (children && children.size < MAX_CHILDREN) children.set(key, child);
        }
        return child;
      },
      apply(_target, _self, args) {
        // Every call returns a promise: a refusal before sending (an argument that cannot cross) rejects it.
        try {
          return call([...path], args, "call");
        } catch (error) {
          return Promise.reject(error);
        }
      },
    });
  };
  return at([]);
}

/** How many method stand-ins a service's stand-in keeps for reuse. */
const MAX_CHILDREN = 64;
