/**
 * Draining an isolated version before its worker is stopped: once the
 * version no longer receives anything new (its registrations were undone on
 * the host), what others already sent its worker and are waiting on (HTTP
 * requests to its routes and middleware, calls of its services) is left to
 * finish, so that a reload or an unload fails none of them: in-process, the
 * old version's code runs to its end too. Each is waited for until it has
 * been in flight for the time limit (the plugin's route deadline), not for
 * the limit from the stop: one whose caller already had its answer (a 504)
 * does not hold up the stop. The plugin's own long work (an event delivery,
 * a hook call, which may be its own) is not waited for: its unload ends it.
 *
 * @module
 */

import { type MessageEndpoint, Rpc, type RpcHandler } from "./rpc.ts";

/**
 * The calls to a worker that others are waiting on: HTTP requests, and calls of its services (its own code calls
 * its services in its worker, never through the host). A drain waits for these.
 */
const REQUESTS = new Set(["fetch", "middleware", "callService", "mcpRun"]);
/** The longest delay a timer takes (a longer one fires at once). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Counts requests in flight and waits until there are none, or until each
 * has been in flight for a time limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Drain } from "./worker_drain.ts";
 * const drain = new Drain();
 * const request = Promise.withResolvers<void>();
 * drain.track(request.promise);
 * const drained = drain.wait(10_000);
 * request.resolve();
 * assert.equal(await drained, true);
 * drain.track(new Promise(() => {}));
 * assert.equal(await drain.wait(5), false);
 * ```
 */
export class Drain {
  /** When each request in flight was sent (`performance.now()`), in the order sent. */
  #sent = new Set<{ at: number }>();
  #waived: () => boolean;
  #waiters = new Set<() => void>();

  /** @param waived whether to stop waiting now, requests or not (what is in flight may be waiting on the stop) */
  constructor(waived: () => boolean = () => false) {
    this.#waived = waived;
  }

  /** How many requests are in flight. */
  get inFlight(): number {
    return this.#sent.size;
  }

  /**
   * Counts a request until it settles.
   *
   * @param request the reply awaited
   */
  track(request: Promise<unknown>): void {
    const settled = this.begin();
    request.then(settled, settled);
  }

  /**
   * Counts a request from now.
   *
   * @returns what to call once it settles (once)
   */
  begin(): () => void {
    const sent = { at: performance.now() };
    this.#sent.add(sent);
    return () => {
      if (!this.#sent.delete(sent)) return;
      this.check();
    };
  }

  /** Lets the waiters go when what they wait for is done (or the wait is waived); call it when that may have changed. */
  check(): void {
    for (const recheck of this.#waiters) recheck();
  }

  /**
   * Waits until no request is in flight, or every one still in flight has
   * been for `ms` (at most `ms` from now).
   *
   * @param ms the limit per request, in ms
   * @returns true when drained, false when the time ran out first
   */
  wait(ms: number): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Until the newest request's limit; timers cap their delay, so a longer one is waited for in steps.
      const recheck = () => {
        clearTimeout(timer);
        let newest = -Infinity;
        for (const sent of this.#sent) newest = Math.max(newest, sent.at);
        const left = newest + ms - performance.now();
        if (!this.#idle() && left > 0) {
          timer = setTimeout(recheck, Math.min(left, MAX_DELAY));
          return;
        }
        this.#waiters.delete(recheck);
        resolve(this.#idle());
      };
      this.#waiters.add(recheck);
      recheck();
    });
  }

  #idle(): boolean {
    return this.#sent.size === 0 || this.#waived();
  }
}

/** A channel to a worker whose requests (what others wait on) are counted by a {@linkcode Drain}. */
export class DrainedRpc extends Rpc {
  #drain: Drain;

  /**
   * @param endpoint the worker
   * @param handlers calls and notes the host answers
   * @param drain counts the requests
   */
  constructor(endpoint: MessageEndpoint, handlers: Record<string, RpcHandler>, drain: Drain) {
    super(endpoint, handlers);
    this.#drain = drain;
  }

  /**
   * Calls the worker; a request (a route, a middleware, a service call) is counted until its reply.
   *
   * @param method the handler's name
   * @param payload its argument
   * @returns the reply
   */
  override call<T = unknown>(method: string, payload?: unknown): Promise<T> {
    return super.call<T>(method, payload, REQUESTS.has(method) ? this.#drain.begin() : undefined);
  }
}
