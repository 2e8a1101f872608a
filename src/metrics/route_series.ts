/**
 * Requests to one route pattern, counted on the request path in plain
 * numbers: counts by method and status, and the latency histogram's buckets.
 * The metrics render them when scraped. prom-client's own histogram builds and
 * hashes a label string on every `observe` (~1 µs a request here); a series is
 * found once per route pattern (the pattern string is the same object on every
 * request, so its hash is cached) and counting is a few additions.
 *
 * @module
 */

/** The latency histogram's upper bounds, in seconds. */
export const LATENCY_BOUNDS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The methods counted under their own name; any other is `other`. */
export const METHODS: readonly string[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"];

const OTHER = METHODS.length - 1;

/** How many distinct method and status pairs a series counts exactly; later ones count by status class (`4xx`). */
export const MAX_STATUS_KEYS = 32;

/** Status values from here on stand for a class: `CLASS_BASE + 4` is `4xx`. */
const CLASS_BASE = 10_000;

/** The index of a method in {@linkcode METHODS}. */
function methodIndex(method: string): number {
  switch (method) {
    case "GET":
      return 0;
    case "HEAD":
      return 1;
    case "POST":
      return 2;
    case "PUT":
      return 3;
    case "PATCH":
      return 4;
    case "DELETE":
      return 5;
    case "OPTIONS":
      return 6;
    default:
      return OTHER;
  }
}

/**
 * One route pattern's requests.
 *
 * @example Count two requests and read them back
 * ```ts
 * import assert from "node:assert/strict";
 * import { RouteSeries } from "./route_series.ts";
 * const series = new RouteSeries("hello", "/api/plugins/hello/greet/:who");
 * series.observe("GET", 200, 3);
 * series.observe("POST", 500, 40);
 * assert.deepEqual(series.counts(), [
 *   { method: "GET", status: "200", n: 1 },
 *   { method: "POST", status: "500", n: 1 },
 * ]);
 * assert.equal(series.count, 2);
 * assert.equal(series.buckets[1], 1); // 3 ms: within 5 ms
 * assert.equal(series.buckets[4], 1); // 40 ms: within 50 ms
 * ```
 */
export class RouteSeries {
  /** The plugin whose route it is (`""` for requests no route answered). */
  readonly plugin: string;
  /** The route pattern (`""` for requests no route answered). */
  readonly route: string;
  /** Requests per bucket of {@linkcode LATENCY_BOUNDS} (not cumulative; past the last bound: only in `count`). */
  readonly buckets: Float64Array = new Float64Array(LATENCY_BOUNDS.length);
  /** Requests counted. */
  count = 0;
  /** Sum of their durations, in seconds. */
  sum = 0;
  /** The keys counted (`status * 8 + method index`), in the order first seen; `#n[i]` counts `#keys[i]`. */
  #keys: number[] = [];
  #n: number[] = [];
  /** The index in `#keys` of the key counted last: most requests to a route repeat it. */
  #last = -1;

  /**
   * @param plugin the plugin whose route it is
   * @param route the route pattern
   */
  constructor(plugin: string, route: string) {
    this.plugin = plugin;
    this.route = route;
  }

  /**
   * Counts one answered request.
   *
   * @param method the request's method
   * @param status the response's status
   * @param ms how long it took, in ms
   */
  observe(method: string, status: number, ms: number): void {
    const key = status * 8 + methodIndex(method);
    const last = this.#last;
    const i = last >= 0 && this.#keys[last] === key ? last : this.#slot(key, status);
    this.#n[i]++;
    this.#last = i;
    const seconds = ms / 1000;
    this.count++;
    this.sum += seconds;
    const bounds = LATENCY_BOUNDS;
    for (let b = 0; b < bounds.length; b++) {
      if (seconds <= bounds[b]) {
        this.buckets[b]++;
        return;
      }
    }
  }

  /** Where a key is counted: its slot, a new one, or past the bound its status class's. */
  #slot(key: number, status: number): number {
    const keys = this.#keys;
    let i = keys.indexOf(key);
    if (i >= 0) return i;
    if (keys.length >= MAX_STATUS_KEYS) {
      // Past the bound, by class: a handler answering every status there is cannot grow the exposition past it.
      const classKey = (CLASS_BASE + Math.min(9, Math.max(0, Math.floor(status / 100)))) * 8 + key % 8;
      i = keys.indexOf(classKey);
      if (i >= 0) return i;
      key = classKey;
    }
    keys.push(key);
    this.#n.push(0);
    return keys.length - 1;
  }

  /**
   * The counts by method and status, in the order first seen.
   *
   * @returns one entry per method and status (a status class such as `4xx` past {@linkcode MAX_STATUS_KEYS})
   */
  counts(): { method: string; status: string; n: number }[] {
    return this.#keys.map((key, i) => {
      const status = Math.floor(key / 8);
      return {
        method: METHODS[key % 8],
        status: status >= CLASS_BASE ? `${status - CLASS_BASE}xx` : String(status),
        n: this.#n[i],
      };
    });
  }
}
