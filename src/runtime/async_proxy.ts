/**
 * A stand-in for a service that lives in another isolate: any property path
 * can be called, and every call returns a promise of the result.
 *
 * @module
 */

/**
 * Builds the proxy.
 *
 * @param call sends one call: the property path and the arguments
 * @returns a callable proxy; `await proxy.a.b(1)` calls `a.b(1)` on the other side
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asyncProxy } from "./async_proxy.ts";
 * const calc = asyncProxy((path, args) => Promise.resolve(`${path.join(".")}(${args.join()})`)) as {
 *   math: { add(a: number, b: number): Promise<string> };
 * };
 * assert.equal(await calc.math.add(1, 2), "math.add(1,2)");
 * ```
 */
export function asyncProxy(call: (path: string[], args: unknown[]) => Promise<unknown>): unknown {
  const at = (path: string[]): unknown =>
    new Proxy(function () {}, {
      get(_target, key) {
        // Not a thenable: `await proxy` must not try to call it.
        if (key === "then" || typeof key === "symbol") return undefined;
        return at([...path, key]);
      },
      apply(_target, _self, args) {
        return call(path, args);
      },
    });
  return at([]);
}
