/**
 * A per-second budget for what an isolated plugin sends the host (events,
 * log lines, reports). Events past the budget wait in a queue bounded to one
 * second's budget, sent as the budget renews; what passes the queue (and log
 * lines past their budget) is dropped and counted, and the count is reported
 * once, when the second ends: a flood costs the host a counter per message,
 * and its log one line per second.
 *
 * @module
 */

import { PluginError } from "../errors.ts";
import type { HostPorts } from "./runtime.ts";

/** Events an isolated plugin may emit per second unless `limits.<name>.emitsPerSecond` says otherwise; the rest of
 * that second's are dropped. */
export const EMIT_RATE = 1000;
/** Log lines and reports an isolated plugin may send per second unless `limits.<name>.logsPerSecond` says otherwise. */
export const LOG_RATE = 100;

const WINDOW_MS = 1000;

/** What the budgets of one plugin version report through. */
export interface BudgetedVersion {
  name(): string;
  gone(): boolean;
  ports(): HostPorts | undefined;
  /** Its own rates (`limits.<name>.emitsPerSecond` and `logsPerSecond`), when the operator set them. */
  rates?(): { emits?: number; logs?: number };
}

/**
 * The emit and log budgets of one isolated version: dropped events are
 * reported (`system.error`, `RATE_LIMITED`) and dropped log lines counted in
 * one warning, each once a second.
 *
 * @param v the version
 * @returns its budgets
 */
export function pluginBudgets(v: BudgetedVersion): { emits: RateBudget; logs: RateBudget } {
  const rates = v.rates?.() ?? {};
  const emits = new RateBudget(rates.emits ?? EMIT_RATE, (n, limit) => {
    if (v.gone()) return;
    const error = new PluginError(
      "RATE_LIMITED",
      `Plugin "${v.name()}" emitted ${n} events over its budget of ${limit} per second; they were dropped`,
      { plugin: v.name() },
    );
    v.ports()?.report({ origin: "event", plugin: v.name(), error });
  });
  const logs = new RateBudget(rates.logs ?? LOG_RATE, (n, limit) => {
    if (!v.gone()) v.ports()?.log.child(v.name()).warn(`${n} log lines and reports dropped (over ${limit} per second)`);
  });
  return { emits, logs };
}

/**
 * One budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateBudget } from "./rate_budget.ts";
 * let now = 0;
 * const dropped: number[] = [];
 * const budget = new RateBudget(2, (n) => dropped.push(n), { clock: () => now, schedule: false });
 * assert.deepEqual([budget.take(), budget.take(), budget.take(), budget.take()], [true, true, false, false]);
 * now = 1000;
 * assert.equal(budget.take(), true); // a new second; the last one's drops are reported
 * assert.deepEqual(dropped, [2]);
 * ```
 */
export class RateBudget {
  #limit: number;

  /** How many per second. */
  get limit(): number {
    return this.#limit;
  }
  #onDropped: (count: number, limit: number) => void;
  #clock: () => number;
  #schedule: boolean;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #dropped = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param limit how many per second
   * @param onDropped told once per second how many were dropped in it
   * @param options `clock` (default `Date.now`); `schedule: false` reports only at the next `take` (for tests)
   */
  constructor(
    limit: number,
    onDropped: (count: number, limit: number) => void,
    options: { clock?: () => number; schedule?: boolean } = {},
  ) {
    this.#limit = limit;
    this.#onDropped = onDropped;
    this.#clock = options.clock ?? Date.now;
    this.#schedule = options.schedule ?? true;
  }

  /**
   * Takes one from this second's budget.
   *
   * @returns false when the budget is spent (the message is to be dropped)
   */
  take(): boolean {
    const now = this.#clock();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#report();
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used < this.#limit) {
      this.#used++;
      return true;
    }
    if (this.#dropped++ === 0 && this.#schedule) {
      const timer = setTimeout(() => this.#report(), this.#windowStart + WINDOW_MS - now);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    return false;
  }

  /**
   * Takes one from this second's budget if there is one left, without
   * counting a drop when there is not (for a caller that queues instead).
   *
   * @returns whether one was taken
   */
  tryTake(): boolean {
    const now = this.#clock();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#report();
      this.#windowStart = now;
      this.#used = 0;
    }
    if (this.#used >= this.#limit) return false;
    this.#used++;
    return true;
  }

  /** Counts one dropped message (reported when the second ends, as `take` does). */
  drop(): void {
    if (this.#dropped++ === 0 && this.#schedule) {
      const timer = setTimeout(() => this.#report(), Math.max(0, this.msToNextWindow()));
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** How long until this second's budget is renewed, in ms. */
  msToNextWindow(): number {
    return Math.max(0, this.#windowStart + WINDOW_MS - this.#clock());
  }

  /** Reports what is still counted and stops the timer. */
  close(): void {
    this.#report();
  }

  #report(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const dropped = this.#dropped;
    this.#dropped = 0;
    if (dropped > 0) this.#onDropped(dropped, this.#limit);
  }
}

/** One event a plugin emitted. */
export interface QueuedEmit {
  event: string;
  payload: unknown;
}

/**
 * A plugin's events, sent in order within its budget: those over this
 * second's budget wait for the next, at most one second's budget of them;
 * past that they are dropped and counted (reported by the budget once a
 * second).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EmitQueue, RateBudget } from "./rate_budget.ts";
 * const sent: string[] = [];
 * let dropped = 0;
 * const queue = new EmitQueue(new RateBudget(2, (n) => dropped += n, { schedule: false }), () => false, (e) => sent.push(e.event));
 * for (const event of ["a", "b", "c", "d", "e"]) queue.push({ event, payload: null });
 * assert.deepEqual(sent, ["a", "b"]); // c and d wait for the next second; e is over the queue's bound
 * queue.close();
 * ```
 */
export class EmitQueue {
  #budget: RateBudget;
  #gone: () => boolean;
  #send: (emit: QueuedEmit) => void;
  #waiting: QueuedEmit[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param budget the plugin's event budget
   * @param gone whether its worker is gone (what waits is then dropped)
   * @param send sends one event
   */
  constructor(budget: RateBudget, gone: () => boolean, send: (emit: QueuedEmit) => void) {
    this.#budget = budget;
    this.#gone = gone;
    this.#send = send;
  }

  /**
   * Sends an event now if the budget allows and none waits, else queues it (or drops it when the queue is full).
   *
   * @param emit the event
   */
  push(emit: QueuedEmit): void {
    // In order: while some wait, a new one waits behind them.
    if (!this.#waiting.length && this.#budget.tryTake()) return this.#send(emit);
    if (this.#waiting.length >= this.#budget.limit) return this.#budget.drop();
    this.#waiting.push(emit);
    this.#later();
  }

  /** Drops what waits and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting = [];
  }

  #later(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#gone()) return this.close();
      while (this.#waiting.length && this.#budget.tryTake()) this.#send(this.#waiting.shift()!);
      if (this.#waiting.length) this.#later();
    }, this.#budget.msToNextWindow() + 1);
    Deno.unrefTimer(this.#timer);
  }
}
