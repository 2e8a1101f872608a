/**
 * Bounds a promise in time.
 *
 * @module
 */

/**
 * Resolves like `promise`, or rejects with `onTimeout()` after `ms`. The timer
 * is cleared as soon as the promise settles, so it never keeps a process alive.
 *
 * @param promise what to wait for
 * @param ms the limit in milliseconds; `Infinity` or 0 waits forever
 * @param onTimeout builds the error
 * @returns the promise's value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTimeout } from "./timeout.ts";
 * const err = await withTimeout(new Promise(() => {}), 5, () => new Error("late")).catch((e: Error) => e);
 * assert.ok(err instanceof Error);
 * assert.equal(err.message, "late");
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let id: ReturnType<typeof setTimeout> | undefined;
  const timer = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(id));
}
