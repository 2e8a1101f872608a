/**
 * Draining an isolated version before its worker is stopped: once the
 * version no longer receives new requests (its routes were unmounted on the
 * host), the HTTP requests already sent to its worker (its routes and its
 * host-wide middleware) are left to finish, up to a time limit, so that a
 * reload or an unload drops none of them. Other calls in flight (event
 * deliveries, service and hook calls) are not waited for: a plugin's own
 * long work is ended by its unload, as in-process.
 *
 * @module
 */

import { type MessageEndpoint, Rpc, type RpcHandler } from "./rpc.ts";

/** The calls to a worker that are HTTP requests: a drain waits for these. */
const REQUESTS = new Set(["fetch", "middleware"]);

/**
 * Counts requests in flight and waits until there are none.
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
  #inFlight = 0;
  #waived: () => boolean;
  #waiters = new Set<() => void>();

  /** @param waived whether to stop waiting now, requests or not (what is in flight may be waiting on the stop) */
  constructor(waived: () => boolean = () => false) {
    this.#waived = waived;
  }

  /** How many requests are in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Counts a request until it settles.
   *
   * @param request the reply awaited
   */
  track(request: Promise<unknown>): void {
    this.#inFlight++;
    const settled = () => {
      this.#inFlight--;
      this.check();
    };
    request.then(settled, settled);
  }

  /** Lets the waiters go when nothing is in flight (or the wait is waived); call it when that may have changed. */
  check(): void {
    if (this.#waiters.size === 0 || !this.#idle()) return;
    for (const done of this.#waiters) done();
  }

  /**
   * Waits until no request is in flight, or `ms` passed.
   *
   * @param ms the longest wait, in ms
   * @returns true when drained, false when the time ran out
   */
  wait(ms: number): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(settle);
        resolve(drained);
      };
      const settle = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(settle);
    });
  }

  #idle(): boolean {
    return this.#inFlight === 0 || this.#waived();
  }
}

/** A channel to a worker whose HTTP requests are counted by a {@linkcode Drain}. */
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
   * Calls the worker; a request (`fetch`, `middleware`) is counted until its reply.
   *
   * @param method the handler's name
   * @param payload its argument
   * @returns the reply
   */
  override call<T = unknown>(method: string, payload?: unknown): Promise<T> {
    const reply = super.call<T>(method, payload);
    if (REQUESTS.has(method)) this.#drain.track(reply);
    return reply;
  }
}
