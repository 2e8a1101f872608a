/**
 * What may cross between isolates in a service call: data that the
 * structured clone copies whole. A function cannot cross at all, and a class
 * instance would arrive as a plain object without its methods or private
 * state, so both are refused with an error that names the service, the
 * method and the value, instead of failing later or silently.
 *
 * @module
 */

import { PluginError } from "../errors.ts";

/** Prototypes whose instances the structured clone copies whole. */
const CLONEABLE: readonly (object | null)[] = [
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Error.prototype,
  TypeError.prototype,
  RangeError.prototype,
  SyntaxError.prototype,
  ReferenceError.prototype,
  EvalError.prototype,
  URIError.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
  Blob.prototype,
];
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype);

/**
 * Describes the first part of `value` that cannot cross intact, or returns
 * undefined when all of it can.
 *
 * @param value the value to send
 * @returns e.g. `a function at .onDone` or `an instance of Counter`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uncrossable } from "./crossing.ts";
 * assert.equal(uncrossable({ n: 1, at: new Date(), tags: new Set(["a"]) }), undefined);
 * assert.equal(uncrossable({ list: [1, () => 2] }), "a function at .list[1]");
 * class Counter { #n = 0; }
 * assert.equal(uncrossable(new Counter()), "an instance of Counter");
 * ```
 */
export function uncrossable(value: unknown): string | undefined {
  return walk(value, "", new Set(), 0);
}

function walk(value: unknown, at: string, seen: Set<object>, depth: number): string | undefined {
  const where = at ? ` at ${at}` : "";
  if (typeof value === "function") return `a function${where}`;
  if (typeof value === "symbol") return `a symbol${where}`;
  if (value === null || typeof value !== "object") return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (depth > 64) return undefined; // the clone itself reports what is too deep
  const proto = Object.getPrototypeOf(value);
  if (!CLONEABLE.includes(proto) && Object.getPrototypeOf(proto) !== TYPED_ARRAY) {
    const name = (proto?.constructor as { name?: unknown } | undefined)?.name;
    return `an instance of ${typeof name === "string" && name ? name : "a class"}${where}`;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const found = walk(k, `${at}<key>`, seen, depth + 1) ?? walk(v, `${at}.get(${String(k)})`, seen, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const v of value) {
      const found = walk(v, `${at}<item>`, seen, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const isArray = Array.isArray(value);
  for (const key of Object.keys(value)) {
    const found = walk(
      (value as Record<string, unknown>)[key],
      isArray ? `${at}[${key}]` : `${at}.${key}`,
      seen,
      depth + 1,
    );
    if (found) return found;
  }
  return undefined;
}

/**
 * Throws a `SERVICE_VALUE` error when the arguments or the result of a
 * service call cannot cross to the other isolate.
 *
 * @param value the arguments (an array) or the result
 * @param call the service, its method path, and which of the two `value` is
 * @throws {PluginError} naming the service, the method, the value and the fix
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertCrossable } from "./crossing.ts";
 * assert.throws(
 *   () => assertCrossable(() => 1, { service: "chat", path: ["onMessage"], part: "result" }),
 *   /Service "chat" onMessage\(\): its result is a function, which cannot cross/,
 * );
 * ```
 */
export function assertCrossable(
  value: unknown,
  call: { service: string; path: readonly string[]; part: "arguments" | "result"; plugin?: string },
): void {
  const found = uncrossable(value);
  if (found === undefined) return;
  const method = call.path.length ? `${call.path.join(".")}()` : "(the service itself)";
  const verb = call.part === "arguments" ? "hold" : found.includes(" at ") ? "holds" : "is";
  const what = `its ${call.part} ${verb} ${found}`;
  throw new PluginError(
    "SERVICE_VALUE",
    `Service "${call.service}" ${method}: ${what}, which cannot cross to a plugin in another isolate. ` +
      `Pass and return plain data (objects, arrays, strings, numbers, Dates, Maps, Sets, typed arrays); for a ` +
      `callback, emit an event instead, or trust both plugins to run in-process`,
    { plugin: call.plugin },
  );
}
