/**
 * Slows a client that keeps sending wrong keys to the dashboard's login:
 * after {@linkcode MAX_FAILURES} refusals within a minute, its logins are
 * answered 429 for a minute, whatever key they carry. Clients are counted
 * by address, at most {@linkcode MAX_CLIENTS} at a time (the oldest is
 * forgotten first).
 *
 * @module
 */

/** Refused logins a client may make within {@linkcode WINDOW_MS} before it is held off. */
export const MAX_FAILURES = 5;
/** The window refusals are counted in, and how long a client is held off, in ms. */
export const WINDOW_MS = 60_000;
/** Clients tracked at most. */
export const MAX_CLIENTS = 1000;

/**
 * Failed logins by client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoginThrottle } from "./login_throttle.ts";
 * let now = 0;
 * const throttle = new LoginThrottle(() => now);
 * for (let i = 0; i < 5; i++) throttle.failed("10.0.0.9");
 * assert.equal(throttle.heldOff("10.0.0.9"), 60_000);
 * assert.equal(throttle.heldOff("10.0.0.8"), 0);
 * now = 60_001;
 * assert.equal(throttle.heldOff("10.0.0.9"), 0);
 * ```
 */
export class LoginThrottle {
  #clients = new Map<string, { failures: number[]; until: number }>();
  #clock: () => number;

  /** @param clock the time in ms (default `Date.now`) */
  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /**
   * How long a client is still held off, in ms (0 when it may try).
   *
   * @param client its address
   * @returns milliseconds
   */
  heldOff(client: string): number {
    const until = this.#clients.get(client)?.until ?? 0;
    return Math.max(0, until - this.#clock());
  }

  /**
   * Counts a refused login.
   *
   * @param client its address
   */
  failed(client: string): void {
    const now = this.#clock();
    const entry = this.#clients.get(client) ?? { failures: [], until: 0 };
    this.#clients.delete(client);
    entry.failures = [...entry.failures.filter((t) => now - t < WINDOW_MS), now];
    if (entry.failures.length >= MAX_FAILURES) {
      entry.until = now + WINDOW_MS;
      entry.failures = [];
    }
    this.#clients.set(client, entry);
    if (this.#clients.size > MAX_CLIENTS) this.#clients.delete(this.#clients.keys().next().value!);
  }

  /**
   * Forgets a client's refusals (it logged in).
   *
   * @param client its address
   */
  succeeded(client: string): void {
    this.#clients.delete(client);
  }
}
