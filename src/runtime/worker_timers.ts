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
  const live = new Set<unknown>();
  // Typed loosely: the globals' declared types mix Deno's numbers and Node's Timeout objects.
  const real = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  const [setT, setI, clearT, clearI] = [real.setTimeout, real.setInterval, real.clearTimeout, real.clearInterval];
  real.setTimeout = (fn: unknown, ...rest: unknown[]) => {
    if (typeof fn !== "function") return setT(fn, ...rest);
    const id: unknown = setT((...a: unknown[]) => {
      live.delete(id);
      return (fn as TimerCallback)(...a);
    }, ...rest);
    live.add(id);
    return id;
  };
  real.setInterval = (fn: unknown, ...rest: unknown[]) => {
    const id = setI(fn, ...rest);
    if (typeof fn === "function") live.add(id);
    return id;
  };
  real.clearTimeout = (id: unknown) => {
    live.delete(id);
    clearT(id);
  };
  real.clearInterval = (id: unknown) => {
    live.delete(id);
    clearI(id);
  };
  const count = () => live.size;
  g[TRACKED] = count;
  return count;
}

const TRACKED = Symbol.for("plugboard.trackedTimers");
