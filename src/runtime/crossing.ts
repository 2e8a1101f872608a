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
const CLONEABLE: ReadonlySet<object | null> = new Set([
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
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
]);
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype);
/** Binary data, cloned as bytes: nothing in it to check (walking a typed array's indexes costs far more than copying it). */
const BINARY: ReadonlySet<object | null> = new Set([ArrayBuffer.prototype, DataView.prototype, Blob.prototype]);

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
  // Plain values need no walk (and no set of the objects seen).
  if (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol") return undefined;
  const found = walk(value, new Set(), 0);
  return found && (found.at ? `${found.what} at ${found.at}` : found.what);
}

/** What cannot cross, and where: the path is built on the way back, only for what was found. */
type Found = { what: string; at: string };

function walk(value: unknown, seen: Set<object>, depth: number): Found | undefined {
  if (typeof value === "function") return { what: "a function", at: "" };
  if (typeof value === "symbol") return { what: "a symbol", at: "" };
  if (value === null || typeof value !== "object") return undefined;
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (depth > 64) return undefined; // the clone itself reports what is too deep
  const proto = Object.getPrototypeOf(value);
  if (BINARY.has(proto) || (proto !== null && Object.getPrototypeOf(proto) === TYPED_ARRAY)) return undefined;
  if (!CLONEABLE.has(proto)) {
    const name = (proto?.constructor as { name?: unknown } | undefined)?.name;
    return { what: `an instance of ${typeof name === "string" && name ? name : "a class"}`, at: "" };
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const found = inside(walk(k, seen, depth + 1), "<key>") ??
        inside(walk(v, seen, depth + 1), `.get(${String(k)})`);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const v of value) {
      const found = inside(walk(v, seen, depth + 1), "<item>");
      if (found) return found;
    }
    return undefined;
  }
  const isArray = Array.isArray(value);
  for (const key of Object.keys(value)) {
    const found = walk((value as Record<string, unknown>)[key], seen, depth + 1);
    if (found) return inside(found, isArray ? `[${key}]` : `.${key}`);
  }
  return undefined;
}

/** What was found inside a value, with the step to it prepended. */
function inside(found: Found | undefined, step: string): Found | undefined {
  return found && { what: found.what, at: step + found.at };
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
