/**
 * The process's RSS read the same way before and after a group of workers
 * starts, so that the growth can be divided by their count: after a pause
 * (the workers idle), two garbage collections of the main thread 50 ms
 * apart when the process runs with `--v8-flags=--expose-gc`.
 *
 * @module
 */

/** How long the process is left idle before an "idle" reading, in ms. */
export const IDLE_MS = 250;

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads the process's RSS once the main thread's garbage is collected.
 *
 * @param idleMs how long to wait first
 * @returns bytes
 */
export async function settledRss(idleMs = 0): Promise<number> {
  if (idleMs) await sleep(idleMs);
  gc?.();
  await sleep(50);
  gc?.();
  return Deno.memoryUsage().rss;
}
