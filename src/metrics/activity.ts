/**
 * Per-plugin request activity over the last minutes, in fixed time buckets,
 * for the dashboard's charts: requests, server errors and latency. Memory is
 * bounded: a fixed number of buckets per plugin, and only plugins whose route
 * answered are tracked.
 *
 * @module
 */

/** One time bucket of one plugin's requests. */
export interface ActivityBucket {
  /** The bucket's start, ms since the epoch. */
  start: number;
  /** Requests answered. */
  requests: number;
  /** Requests answered with a status of 500 or more. */
  errors: number;
  /** Sum of the requests' durations, in ms. */
  totalMs: number;
  /** The slowest request, in ms. */
  maxMs: number;
}

/** Options for {@linkcode Activity}. */
export interface ActivityOptions {
  /** Width of a bucket, in ms. @default 10000 */
  bucketMs?: number;
  /** How many buckets are kept per plugin. @default 30 (five minutes) */
  buckets?: number;
  /** The clock. @default Date.now */
  now?: () => number;
}

/**
 * Request activity per plugin, in time buckets.
 *
 * @example Two requests in one bucket
 * ```ts
 * import assert from "node:assert/strict";
 * import { Activity } from "./activity.ts";
 * let now = 100_000;
 * const activity = new Activity({ bucketMs: 1000, buckets: 3, now: () => now });
 * activity.record("hello", 200, 4);
 * activity.record("hello", 500, 10);
 * now += 1000;
 * const series = activity.series("hello");
 * assert.equal(series.length, 3);
 * assert.deepEqual(series[1], { start: 100_000, requests: 2, errors: 1, totalMs: 14, maxMs: 10 });
 * assert.equal(series[2].requests, 0);
 * ```
 */
export class Activity {
  #bucketMs: number;
  #size: number;
  #now: () => number;
  #rings = new Map<string, ActivityBucket[]>();
  /** The plugin recorded last and its ring: most requests in a row are one plugin's. */
  #lastPlugin: string | undefined;
  #lastRing: ActivityBucket[] = [];

  /** @param options bucket width, count and clock */
  constructor(options: ActivityOptions = {}) {
    this.#bucketMs = options.bucketMs ?? 10_000;
    this.#size = options.buckets ?? 30;
    this.#now = options.now ?? Date.now;
  }

  /** The width of a bucket, in ms. */
  get bucketMs(): number {
    return this.#bucketMs;
  }

  /**
   * Counts one answered request.
   *
   * @param plugin the plugin whose route answered
   * @param status the response's status
   * @param ms how long it took
   * @param at when it was answered, ms since the epoch (read from the clock when not given)
   */
  record(plugin: string, status: number, ms: number, at: number = this.#now()): void {
    let ring = this.#lastRing;
    if (plugin !== this.#lastPlugin) {
      let found = this.#rings.get(plugin);
      if (found === undefined) this.#rings.set(plugin, found = []);
      this.#lastPlugin = plugin;
      this.#lastRing = ring = found;
    }
    let last = ring[ring.length - 1];
    // Within the newest bucket (nearly always): no division (`at` is past 2^31, a remainder of it is a float's).
    if (last === undefined || at < last.start || at - last.start >= this.#bucketMs) {
      const start = at - at % this.#bucketMs;
      if (last === undefined || last.start !== start) {
        ring.push(last = { start, requests: 0, errors: 0, totalMs: 0, maxMs: 0 });
        if (ring.length > this.#size) ring.shift();
      }
    }
    last.requests++;
    if (status >= 500) last.errors++;
    last.totalMs += ms;
    if (ms > last.maxMs) last.maxMs = ms;
  }

  /**
   * A plugin's buckets over the window ending now, oldest first, empty ones
   * included.
   *
   * @param plugin the plugin
   * @returns exactly `buckets` buckets
   */
  series(plugin: string): ActivityBucket[] {
    const current = Math.floor(this.#now() / this.#bucketMs) * this.#bucketMs;
    const byStart = new Map((this.#rings.get(plugin) ?? []).map((b) => [b.start, b]));
    const out: ActivityBucket[] = [];
    for (let i = this.#size - 1; i >= 0; i--) {
      const start = current - i * this.#bucketMs;
      out.push({ ...(byStart.get(start) ?? { start, requests: 0, errors: 0, totalMs: 0, maxMs: 0 }) });
    }
    return out;
  }

  /**
   * Forgets a plugin's activity.
   *
   * @param plugin the plugin
   */
  forget(plugin: string): void {
    this.#rings.delete(plugin);
    if (plugin === this.#lastPlugin) this.#lastPlugin = undefined;
  }
}
