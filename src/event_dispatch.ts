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
 * never on the emit path (see `EventBus` for when each kind is used). A
 * dispatcher made on a first emit used to cost 0.3-4.5 ms in a cold process,
 * and mitata, seeing a first call over 0.5 ms, then times every call alone
 * with its timer instead of in batches: the "slow mode" of issue 15.
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
  /** Whether `fn` cannot tell it is called without the event's name (see `takesPayloadOnly`); read once, at `on`. */
  readonly payloadOnly: boolean;
}

/** Reports a listener's failure. */
export type Fail = (listener: Listener, event: string, error: unknown) => void;
/** Removes a listener (used for `once`). */
export type Remove = (listener: Listener) => void;
/**
 * Calls a listener list; returns the list's length. A generated dispatcher
 * has `retire`, to be called when it is replaced: until then it trusts that
 * none of its listeners was removed and calls each straight away (its
 * optimised code checks nothing per call); once retired, the emits that are
 * still running it check each listener's `removed` first.
 */
export type Dispatch = ((payload: unknown, event: string) => number) & { retire?: () => void };

/** How dispatchers are built. */
export interface DispatchOptions {
  fail: Fail;
  remove: Remove;
  /** Lists longer than this use the loop. */
  unrollLimit: number;
}

/** The dispatcher of an empty list. */
export const dispatchNone: Dispatch = function dispatchNone() {
  return 0;
};

/** Reports a rejection of the promise a listener returned, once (a hand-made thenable may call back again). */
function watch(result: unknown, listener: Listener, event: string, fail: Fail): void {
  if (result === null || typeof (result as PromiseLike<unknown>).then !== "function") return;
  let reported = false;
  (result as PromiseLike<unknown>).then(undefined, (error) => {
    if (reported) return;
    reported = true;
    fail(listener, event, error);
  });
}

let codegen = true;

/**
 * Builds the function that calls `list`.
 *
 * @param list the listeners, in call order; never mutated afterwards
 * @param options failure and removal callbacks, and the unroll limit
 * @param eager compile the generated code now rather than on its first call
 * @returns the dispatcher
 *
 * @example Isolate a failing listener
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Listener, makeDispatcher } from "./event_dispatch.ts";
 * const listener = (fn: () => void): Listener =>
 *   ({ fn, owner: undefined, once: false, seq: 0, key: "e", prefix: null, removed: false, payloadOnly: false });
 * const failed: unknown[] = [];
 * let ran = false;
 * const list = [listener(() => { throw new Error("x"); }), listener(() => { ran = true; })];
 * const dispatch = makeDispatcher(list, { fail: (_l, _e, err) => failed.push(err), remove: () => {}, unrollLimit: 128 });
 * assert.equal(dispatch(undefined, "e"), 2);
 * assert.equal(ran, true);
 * assert.equal(failed.length, 1);
 * ```
 */
export function makeDispatcher(list: readonly Listener[], options: DispatchOptions, eager = false): Dispatch {
  if (list.length === 0) return dispatchNone;
  if (list.length > options.unrollLimit || !codegen) return loopDispatcher(list, options);
  try {
    return generatedDispatcher(list, options, eager);
  } catch (error) {
    // `new Function` refused (e.g. --disallow-code-generation-from-strings): the loop has the same semantics.
    if (!(error instanceof EvalError)) throw error;
    codegen = false;
    return loopDispatcher(list, options);
  }
}

let generated = 0;

const functionSource = Function.prototype.toString;
/** An arrow function or a `function` with one plain parameter: a name, or an object pattern without defaults. */
const ONE_PARAM_RE =
  /^(?:async\s*)?(?:(?:\(\s*(?:[A-Za-z_$][\w$]*|\{[^(){}=]*\})\s*\)|[A-Za-z_$][\w$]*)\s*=>|function\s*\*?\s*[\w$]*\s*\(\s*(?:[A-Za-z_$][\w$]*|\{[^(){}=]*\})\s*\))/;

/**
 * Whether a handler cannot tell if it is called with the event's name: it
 * declares one plain parameter (no default, no rest) and its source never
 * mentions `arguments`. Anything else, or a source that cannot be read
 * (bound and native functions, methods), is called with both.
 *
 * @param fn the handler
 * @returns true when the payload alone may be passed
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takesPayloadOnly } from "./event_dispatch.ts";
 * assert.equal(takesPayloadOnly((p: unknown) => p), true);
 * assert.equal(takesPayloadOnly((p: unknown, name = "") => [p, name]), false);
 * ```
 */
export function takesPayloadOnly(fn: (...args: never[]) => unknown): boolean {
  if (fn.length !== 1) return false;
  let source: string;
  try {
    source = functionSource.call(fn);
  } catch {
    return false;
  }
  return ONE_PARAM_RE.test(source) && !source.includes("arguments");
}

/**
 * Lists up to this long are retired by swapping each call's target; longer
 * ones by a flag (see `generatedDispatcher`).
 */
const SWAP_LIMIT = 16;

/**
 * Straight-line code, one call per listener in its own `try`, so that every
 * call site sees one function. A listener that cannot tell (see
 * `takesPayloadOnly`) is called with the payload only: a call with more
 * arguments than the function declares costs V8 more on every call
 * (measured: about 0.3 ns per listener, 10% of a dispatch to 100 listeners).
 * A returned value other than undefined is checked for a promise outside
 * the generated code.
 *
 * Until it is retired, a dispatcher calls each listener without asking
 * whether it was removed. Two ways to retire, each the cheaper one where it
 * is used (fresh processes, mitata, distinct handlers):
 * - up to SWAP_LIMIT listeners, each function is a `let`, and `retire`
 *   swaps it for one that checks `removed` first. When V8 inlines every
 *   listener (short lists) this costs nothing measurable; the flag below
 *   left its check in the optimised code of about half the processes with
 *   one listener (0.73 ns per emit became 1.1-1.3).
 * - longer lists check a flag before each call: a field of an object whose
 *   class is its own. V8 treats a field never written since its object was
 *   made as a constant and drops the check from optimised code; `retire`
 *   writes it, which throws that code away, even in an emit under way, so
 *   the check then runs and reads each listener's `removed`. Listeners past
 *   V8's inlining budget are real calls, and there the `let` cost a load and
 *   a compare each: 0.3 ns per listener, 10% of a dispatch to 100 (6% at
 *   32, nothing at 16). A class shared by all dispatchers would not do: one
 *   retirement would make the field a variable for every one of them.
 *
 * Each source is made unique by a serial number: V8 caches what
 * `new Function` compiles by source text, and two dispatchers built from the
 * same text (any two lists of the same length) would share one feedback
 * vector, so their call sites would see the handlers of both lists and turn
 * polymorphic, then megamorphic (measured: 2 listeners on 8 events, 17-23 ns
 * per emit shared against 7-9 ns unique). With `eager`, the returned
 * function is wrapped in parentheses so V8 compiles it at once. Only
 * indices enter the source, never user input.
 */
function generatedDispatcher(list: readonly Listener[], { fail, remove }: DispatchOptions, eager: boolean): Dispatch {
  const n = list.length;
  const swap = n <= SWAP_LIMIT;
  const consts = swap ? [] : ["state = new (class { live = true })()"];
  const lets: string[] = [];
  let body = "";
  let retire = swap ? "" : "\nstate.live = false;";
  for (let i = 0; i < n; i++) {
    const l = `l${i}`, f = `f${i}`, once = list[i].once;
    consts.push(`${l} = list[${i}]`);
    if (swap && !once) {
      lets.push(`${f} = ${l}.fn`);
      retire += `\n${f} = (p, e) => ${l}.removed ? undefined : ${l}.fn(p, e);`;
    } else consts.push(`${f} = ${l}.fn`);
    const call = `try { r = ${f}(${list[i].payloadOnly ? "p" : "p, e"}); ` +
      `if (r !== undefined) watch(r, ${l}, e, fail); } catch (x) { fail(${l}, e, x); }`;
    if (once) body += `if (!${l}.removed) { remove(${l}); ${call} }\n`;
    else body += swap ? `${call}\n` : `if (state.live || !${l}.removed) { ${call} }\n`;
  }
  const fn = `function dispatch(p, e) {\nlet r;\n${body}return ${n};\n}`;
  const factory = new Function(
    "list",
    "fail",
    "remove",
    "watch",
    `"use strict"; // plugboard event dispatcher #${++generated}\nconst ${consts.join(", ")};\n` +
      (lets.length ? `let ${lets.join(", ")};\n` : "") +
      `const dispatch = ${eager ? `(${fn})` : fn};\ndispatch.retire = () => {${retire}\n};\nreturn dispatch;`,
  );
  return factory(list, fail, remove, watch) as Dispatch;
}

function loopDispatcher(list: readonly Listener[], { fail, remove }: DispatchOptions): Dispatch {
  const n = list.length;
  return function loopDispatch(payload, event) {
    for (let i = 0; i < n; i++) {
      const l = list[i];
      if (l.removed) continue;
      if (l.once) remove(l);
      const fn = l.fn; // called unbound, as the generated code calls it
      try {
        const r = fn(payload, event);
        if (r !== undefined) watch(r, l, event, fail);
      } catch (err) {
        fail(l, event, err);
      }
    }
    return n;
  };
}
