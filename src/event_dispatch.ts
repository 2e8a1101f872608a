/**
 * The functions that call a resolved listener list, for {@linkcode EventBus}.
 *
 * A list of up to `unrollLimit` listeners gets a generated dispatcher: one
 * guarded call per listener, so each call site sees a single function and
 * V8 can inline it (as tseep does). Longer lists, and every list when code
 * generation is unavailable, get a loop. Both paths have the same semantics:
 * listeners run in order, one removed during the emit is skipped, a `once`
 * listener is removed before it runs, and a throw or a rejection is handed
 * to `fail` without stopping the others.
 *
 * Dispatchers are built when a list changes (`on`, `off`, a `once` firing),
 * never on the emit path: building one costs tens of microseconds of
 * parsing and compiling, which on a first emit is a latency spike that also
 * makes benchmark harnesses time the wrong mode (see BENCHMARKS.md).
 *
 * @module
 */

/** One registered listener. Every listener has the same shape, so loads of its fields stay monomorphic. */
export interface Listener {
  // deno-lint-ignore no-explicit-any
  readonly fn: (payload: any, event: string) => unknown;
  readonly owner: string | undefined;
  readonly once: boolean;
  /** Registration order, used to merge exact and wildcard listeners. */
  readonly seq: number;
  /** The name or pattern it was registered with. */
  readonly key: string;
  /** For a wildcard, the prefix it matches (the key without `*`); otherwise null. */
  readonly prefix: string | null;
  /** Set when removed, so an emit already under way skips it and a `once` listener fires once. */
  removed: boolean;
}

/** Reports a listener's failure. */
export type Fail = (listener: Listener, event: string, error: unknown) => void;
/** Removes a listener (used for `once`). */
export type Remove = (listener: Listener) => void;
/** Calls a listener list; returns the list's length. */
export type Dispatch = (payload: unknown, event: string) => number;

/** How dispatchers are built. */
export interface DispatchOptions {
  fail: Fail;
  remove: Remove;
  /** Lists longer than this use the loop. */
  unrollLimit: number;
}

/** The dispatcher of an empty list. */
export const dispatchNone: Dispatch = () => 0;

/** Reports a rejection of the promise a listener returned. */
function watch(result: PromiseLike<unknown>, listener: Listener, event: string, fail: Fail): void {
  result.then(undefined, (error) => fail(listener, event, error));
}

let codegen = true;

/**
 * Builds the function that calls `list`.
 *
 * @param list the listeners, in call order; never mutated afterwards
 * @param options failure and removal callbacks, and the unroll limit
 * @returns the dispatcher
 *
 * @example Isolate a failing listener
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Listener, makeDispatcher } from "./event_dispatch.ts";
 * const listener = (fn: () => void): Listener =>
 *   ({ fn, owner: undefined, once: false, seq: 0, key: "e", prefix: null, removed: false });
 * const failed: unknown[] = [];
 * let ran = false;
 * const list = [listener(() => { throw new Error("x"); }), listener(() => { ran = true; })];
 * const dispatch = makeDispatcher(list, { fail: (_l, _e, err) => failed.push(err), remove: () => {}, unrollLimit: 128 });
 * assert.equal(dispatch(undefined, "e"), 2);
 * assert.equal(ran, true);
 * assert.equal(failed.length, 1);
 * ```
 */
export function makeDispatcher(list: readonly Listener[], options: DispatchOptions): Dispatch {
  if (list.length === 0) return dispatchNone;
  if (list.length > options.unrollLimit || !codegen) return loopDispatcher(list, options);
  try {
    return generatedDispatcher(list, options);
  } catch (error) {
    // `new Function` refused (e.g. --disallow-code-generation-from-strings): the loop has the same semantics.
    if (!(error instanceof EvalError)) throw error;
    codegen = false;
    return loopDispatcher(list, options);
  }
}

/**
 * Straight-line code, one guarded call per listener. Each `new Function`
 * compiles a new function with its own feedback, so every call site in it
 * stays monomorphic however many buses and events exist. The returned
 * function is wrapped in parentheses so V8 compiles it now rather than on
 * the first emit. Only indices enter the source, never user input.
 */
function generatedDispatcher(list: readonly Listener[], { fail, remove }: DispatchOptions): Dispatch {
  const n = list.length;
  let head = "";
  let body = "";
  for (let i = 0; i < n; i++) {
    head += `${i ? ", " : ""}l${i} = list[${i}], f${i} = l${i}.fn`;
    body += `if (!l${i}.removed) {${list[i].once ? ` remove(l${i});` : ""} try { r = f${i}(p, e); ` +
      `if (r != null && typeof r.then === "function") watch(r, l${i}, e, fail); } catch (x) { fail(l${i}, e, x); } }\n`;
  }
  const factory = new Function(
    "list",
    "fail",
    "remove",
    "watch",
    `"use strict";\nconst ${head};\nreturn (function dispatch(p, e) {\nlet r;\n${body}return ${n};\n});`,
  );
  return factory(list, fail, remove, watch) as Dispatch;
}

/** One loop over the list: for long lists, and where code generation is refused. */
function loopDispatcher(list: readonly Listener[], { fail, remove }: DispatchOptions): Dispatch {
  const n = list.length;
  return (payload, event) => {
    for (let i = 0; i < n; i++) {
      const l = list[i];
      if (l.removed) continue;
      if (l.once) remove(l);
      const fn = l.fn; // called unbound, as the generated code calls it
      try {
        const r = fn(payload, event);
        if (r != null && typeof (r as PromiseLike<unknown>).then === "function") {
          watch(r as PromiseLike<unknown>, l, event, fail);
        }
      } catch (err) {
        fail(l, event, err);
      }
    }
    return n;
  };
}
