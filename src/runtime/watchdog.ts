/**
 * The watchdog of an isolated plugin's worker. It judges progress, not
 * promptness: a worker that keeps sending messages (replies to calls, notes,
 * answers to heartbeats, however late) is alive, however busy or queued it
 * is. Only a worker that stays silent for longer than its budget while it
 * owes an answer (a heartbeat it has not answered) is judged hung: one task
 * that has not yielded for that long, such as `for (;;) {}`.
 *
 * The host cannot see inside the worker; all it sees is when the worker last
 * sent anything. So it sends a heartbeat every quarter of the budget (at most
 * every {@linkcode MAX_HEARTBEAT_MS}) and, on each beat, measures the silence
 * since the worker's last message of any kind. A round trip that takes long
 * because the heartbeat waits behind queued work is no failure: the replies
 * to that work are messages too.
 *
 * @module
 */

/** The longest time between two heartbeats, in ms (they also carry the worker's memory use). */
export const MAX_HEARTBEAT_MS = 250;
/** The shortest time between two heartbeats, in ms. */
const MIN_HEARTBEAT_MS = 25;

/** What a {@linkcode Watchdog} watches with. */
export interface WatchdogOptions {
  /** How long the worker may stay silent while it owes an answer, in ms. */
  hangTimeout: number;
  /** Sends the worker a heartbeat, which it answers when it is free. */
  ping(): void;
  /** Called once when the worker is judged hung, with how long it was silent, in ms. */
  onHang(silentMs: number): void;
}

/**
 * Watches one worker for a task that never yields.
 *
 * @example A worker that never answers is judged hung
 * ```ts
 * import assert from "node:assert/strict";
 * import { Watchdog } from "./watchdog.ts";
 * const hung = Promise.withResolvers<number>();
 * const dog = new Watchdog({ hangTimeout: 100, ping() {}, onHang: hung.resolve });
 * dog.start();
 * assert.ok(await hung.promise > 100);
 * ```
 */
export class Watchdog {
  #options: WatchdogOptions;
  #every: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #lastBeat = 0;
  /** Whether a heartbeat was sent since the worker last sent anything. */
  #owed = false;

  /** @param options the budget, how to ping, and what to do with a hung worker */
  constructor(options: WatchdogOptions) {
    this.#options = options;
    this.#every = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, Math.floor(options.hangTimeout / 4)));
  }

  /** Starts the heartbeats; the silence is counted from now. */
  start(): void {
    this.stop();
    this.#lastHeard = this.#lastBeat = performance.now();
    this.#owed = false;
    this.#timer = setInterval(() => this.#beat(), this.#every);
  }

  /** Notes that the worker sent a message (any message is progress). */
  heard(): void {
    this.#lastHeard = performance.now();
    this.#owed = false;
  }

  /** Stops the heartbeats. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #beat(): void {
    const now = performance.now();
    const gap = now - this.#lastBeat;
    this.#lastBeat = now;
    // The host's own thread was held up (a long synchronous task, a paused process): whatever the worker sent
    // meanwhile still waits in the host's queue, so that time is not the worker's silence.
    if (gap > 2 * this.#every) this.#lastHeard = Math.min(now, this.#lastHeard + gap - this.#every);
    const silent = now - this.#lastHeard;
    if (this.#owed && silent > this.#options.hangTimeout) {
      this.stop();
      this.#options.onHang(silent);
      return;
    }
    this.#owed = true;
    this.#options.ping();
  }
}
