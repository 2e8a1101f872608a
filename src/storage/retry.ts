/**
 * Retrying storage work that found the database busy, waiting between tries
 * on a timer so the event loop keeps serving.
 *
 * @module
 */

import { StorageBusyError } from "./errors.ts";

/** Options for {@linkcode retryBusy}. */
export interface RetryBusyOptions {
  /** How many tries in all. @default 20 */
  attempts?: number;
  /** The wait before the second try, in ms; it doubles after each try, up to 1000. @default 25 */
  delayMs?: number;
  /** Stops waiting when aborted (the last error is thrown). @default undefined */
  signal?: AbortSignal;
}

/**
 * Runs `fn`, and runs it again after a growing pause while it throws
 * {@linkcode StorageBusyError}. Any other error is thrown at once.
 *
 * @example Add a key while another process may hold the lock
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPluginStorage, retryBusy } from "../storage.ts";
 * using store = openPluginStorage({ name: "tasks", dir: ":memory:" });
 * await retryBusy(() => store.kv.add("task:1", { title: "a" }));
 * assert.deepEqual(store.kv.get("task:1"), { title: "a" });
 * ```
 *
 * @param fn the storage work (synchronous or not)
 * @param options tries, pause and signal
 * @returns what `fn` returns
 * @throws {StorageBusyError} when every try found the database busy
 */
export async function retryBusy<T>(fn: () => T | Promise<T>, options: RetryBusyOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 20;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`Cannot retry as 'attempts' must be a positive integer: current value is ${attempts}`);
  }
  let delay = options.delayMs ?? 25;
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof StorageBusyError) || i >= attempts || options.signal?.aborted) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 1000);
  }
}
