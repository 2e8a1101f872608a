/**
 * A per-second budget for what an isolated plugin sends the host (events,
 * log lines, reports). What passes the budget in a second is dropped and
 * counted, and the count is reported once, when the second ends: a flood
 * costs the host a counter per message, and its log one line per second.
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
