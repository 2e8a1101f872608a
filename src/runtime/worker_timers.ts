/**
 * Counts the timers alive in an isolated plugin's worker (or sandboxed
 * plugin's process), for its info and the dashboard. The worker is the
 * plugin's own, so every timer in it is the plugin's: those set through
 * `ctx.setTimeout`/`ctx.setInterval` and those set on the global directly.
 * The count is what the worker reports, like its heap: a plugin that replaces
 * the globals again can hide its timers from it, and gains nothing by that
 * (its timers end with its worker either way).
 *
 * @module
 */

type TimerCallback = (...args: unknown[]) => unknown;
/** A global timer function, typed loosely: the globals' declared types mix Deno's numbers and Node's Timeout objects. */
type TimerFunction = (...args: unknown[]) => unknown;

/**
 * Wraps the global timer functions of this worker, once, to keep a count of
 * the timers alive: a timeout until it fires or is cleared, an interval until
 * it is cleared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trackTimers } from "./worker_timers.ts";
 * const live = trackTimers();
 * const before = live();
 * const interval = setInterval(() => {}, 60_000);
 * const timeout = setTimeout(() => {}, 60_000);
 * assert.equal(live(), before + 2);
 * clearInterval(interval);
 * clearTimeout(timeout);
 * assert.equal(live(), before);
 * ```
 *
 * @returns a function that tells how many timers are alive
 */
export function trackTimers(): () => number {
  const g = globalThis as unknown as Record<symbol, (() => number) | undefined>;
  const installed = g[TRACKED];
  if (installed) return installed;
  // Keyed by the timer's number (Node's Timeout converts to it), so a timer cleared by its number is forgotten too,
  // and no timer object is held here.
  const live = new Set<number>();
  const key = (id: unknown) => Number(id);
  const wrappers: Record<string, (real: TimerFunction) => TimerFunction> = {
    setTimeout: (setT) =>
      like(setT, function (this: unknown, fn: unknown, ...rest: unknown[]) {
        if (typeof fn !== "function") return Reflect.apply(setT, this, [fn, ...rest]);
        // A plain function, so the callback gets the `this` the runtime gives it (Node's Timeout).
        const id: unknown = Reflect.apply(setT, this, [function (this: unknown, ...a: unknown[]) {
          live.delete(key(id));
          return Reflect.apply(fn as TimerCallback, this, a);
        }, ...rest]);
        live.add(key(id));
        return id;
      }),
    setInterval: (setI) =>
      like(setI, function (this: unknown, fn: unknown, ...rest: unknown[]) {
        const id = Reflect.apply(setI, this, [fn, ...rest]);
        if (typeof fn === "function") live.add(key(id));
        return id;
      }),
    clearTimeout: (clearT) =>
      like(clearT, function (this: unknown, id: unknown) {
        live.delete(key(id));
        return Reflect.apply(clearT, this, [id]);
      }),
    clearInterval: (clearI) =>
      like(clearI, function (this: unknown, id: unknown) {
        live.delete(key(id));
        return Reflect.apply(clearI, this, [id]);
      }),
  };
  for (const [name, wrap] of Object.entries(wrappers)) wrapLazily(name, wrap);
  const count = () => live.size;
  g[TRACKED] = count;
  return count;
}

const TRACKED = Symbol.for("plugboard.trackedTimers");

/**
 * The wrapper with the original's own properties (its name and length, and
 * what `util.promisify` looks for): code that inspects the global sees the same
 * function as before.
 */
function like(real: TimerFunction, wrapper: TimerFunction): TimerFunction {
  for (const k of Reflect.ownKeys(real)) {
    if (k === "prototype") continue;
    const d = Object.getOwnPropertyDescriptor(real, k);
    if (d) Object.defineProperty(wrapper, k, d);
  }
  return wrapper;
}

/**
 * Replaces a global function by its wrapper, reading the global only when it
 * is first used: Deno loads its timers (Node's, with what they need) the
 * first time one of them is read, ~1.8 MiB in each worker, which a plugin
 * that sets no timer never needs. Once read (or assigned), the global is a
 * plain writable value again.
 */
function wrapLazily(name: string, wrap: (real: TimerFunction) => TimerFunction): void {
  const g = globalThis as unknown as Record<string, TimerFunction>;
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  const define = (value: unknown) =>
    Object.defineProperty(globalThis, name, {
      value,
      writable: true,
      configurable: true,
      enumerable: own?.enumerable ?? true,
    });
  if (!own?.configurable || !own.get) {
    g[name] = wrap(g[name]);
    return;
  }
  Object.defineProperty(globalThis, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      const wrapped = wrap(own.get!.call(globalThis) as TimerFunction);
      define(wrapped);
      return wrapped;
    },
    set: define,
  });
}
