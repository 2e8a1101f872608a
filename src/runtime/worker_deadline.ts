/**
 * Time limits for a worker's own start-up that do not touch the global
 * timers: in a worker, Deno loads its timers (Node's, and what they need) the
 * first time `setTimeout` or one of its kin is read, ~1.8 MiB per worker
 * that a plugin setting no timer never needs. `AbortSignal.timeout` runs on
 * the runtime's own timer queue and loads nothing.
 *
 * @module
 */

/**
 * Resolves like `promise`, or rejects with `onTimeout()` after `ms` (as
 * `withTimeout` in `src/timeout.ts` does, without the global timers).
 *
 * @param promise what to wait for
 * @param ms the limit in milliseconds; `Infinity` or 0 waits forever
 * @param onTimeout builds the error
 * @returns the promise's value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withDeadline } from "./worker_deadline.ts";
 * const err = await withDeadline(new Promise<never>(() => {}), 5, () => new Error("late")).catch((e: Error) => e);
 * assert.equal(err.message, "late");
 * assert.equal(await withDeadline(Promise.resolve(1), 1_000, () => new Error("late")), 1);
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  const signal = AbortSignal.timeout(ms);
  let onAbort = () => {};
  const late = new Promise<never>((_, reject) => {
    onAbort = () => reject(onTimeout());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, late]).finally(() => signal.removeEventListener("abort", onAbort));
}

/**
 * Resolves in a later task, once the runtime has dealt with what the current
 * one left (a promise rejected with nobody handling it is reported first), as
 * `setTimeout(resolve, 0)` would.
 *
 * @returns when the next task runs
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextTask } from "./worker_deadline.ts";
 * let later = false;
 * const next = nextTask().then(() => later = true);
 * await Promise.resolve();
 * assert.equal(later, false);
 * await next;
 * assert.equal(later, true);
 * ```
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => AbortSignal.timeout(0).addEventListener("abort", () => resolve(), { once: true }));
}
