/**
 * Workers started ahead of need: after a plugin is reloaded, a worker with
 * the same permissions is started in the background and its entry module
 * loaded, so that the plugin's next reload (a save under `--watch`, the
 * edit loop) imports its code into a ready worker instead of waiting for a
 * thread and plugboard's modules. Only plugins that were reloaded get one,
 * at most {@linkcode MAX_WARM} at a time (the oldest is ended first), and
 * `close()` ends them all.
 *
 * @module
 */

import { noteMessage } from "./rpc.ts";

/** Warm workers kept at most. */
export const MAX_WARM = 8;
/** How long after a reloaded version's setup its next worker is started: the rest of the reload goes first. */
export const WARM_DELAY_MS = 100;

/** Ready workers, by plugin and permission set. */
export class WarmWorkers {
  #pool = new Map<string, Worker>();
  /** Workers about to be started, by key. */
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed = false;
  #create: (key: string) => Worker | undefined;

  /** @param create starts a worker for a key (undefined when it cannot) */
  constructor(create: (key: string) => Worker | undefined) {
    this.#create = create;
  }

  /** How many are ready. */
  get size(): number {
    return this.#pool.size;
  }

  /**
   * Takes the ready worker for a key, if there is one.
   *
   * @param key the plugin and its permission set
   * @returns the worker, now the caller's
   */
  take(key: string): Worker | undefined {
    const worker = this.#pool.get(key);
    this.#pool.delete(key);
    // None ready yet: the one about to start would only compete with the cold start the caller makes now.
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    return worker;
  }

  /**
   * Starts a worker for a key in a moment, unless one is ready.
   *
   * @param key the plugin and its permission set
   */
  prepare(key: string): void {
    if (this.#closed || this.#pool.has(key) || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      if (this.#closed || this.#pool.has(key)) return;
      const worker = this.#create(key);
      if (!worker) return;
      // Not the plugin's yet: a failure here only means there is no ready worker.
      worker.onerror = (e) => {
        e.preventDefault();
        if (this.#pool.get(key) === worker) this.#pool.delete(key);
        worker.terminate();
      };
      // What setup needs (storage) loads now, while it waits.
      worker.postMessage(noteMessage("warm", null));
      this.#pool.set(key, worker);
      while (this.#pool.size > MAX_WARM) {
        const [oldest, w] = this.#pool.entries().next().value!;
        this.#pool.delete(oldest);
        w.terminate();
      }
    }, WARM_DELAY_MS);
    Deno.unrefTimer(timer);
    this.#timers.set(key, timer);
  }

  /** Ends every ready worker; none is started afterwards. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const worker of this.#pool.values()) worker.terminate();
    this.#pool.clear();
  }
}
