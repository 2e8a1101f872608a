/**
 * The access log's request ids: a random prefix of four hex digits per host,
 * a dash, and a sequence number in base 36 (`3f2a-1`, `3f2a-2`, ...,
 * `3f2a-10`, ...). One is made per request to a plugin route, so it is made
 * without `Number.prototype.toString(36)` (a call into the runtime, tens of
 * ns): the two lowest base-36 digits come from a table, the rest is kept as
 * text and redone once every 1,296 ids.
 *
 * @module
 */

import { PluginError } from "../errors.ts";

/** 36²: the ids made between two changes of the higher digits. */
const PAIR_SPAN = 36 * 36;

/** Every pair of base-36 digits, `00` to `zz`. */
const PAIRS: readonly string[] = Array.from({ length: PAIR_SPAN }, (_, i) => i.toString(36).padStart(2, "0"));

/**
 * Request ids of one host.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestIds } from "./request_ids.ts";
 * const ids = new RequestIds("3f2a");
 * assert.equal(ids.next(), "3f2a-1");
 * for (let i = 2; i < 1296; i++) ids.next();
 * assert.equal(ids.next(), "3f2a-100"); // 1296 in base 36
 * ```
 */
export class RequestIds {
  #prefix: string;
  /** The prefix and the digits above the lowest two (empty below 36²). */
  #high: string;
  #highValue = 0;
  #low = 0;

  /**
   * @param prefix the text before the dash: letters and digits (access lines write ids unescaped)
   *   @default four random hex digits
   * @throws {PluginError} `INVALID_SETTINGS` when the prefix holds anything else
   */
  constructor(prefix: string = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0")) {
    if (!/^[0-9A-Za-z]*$/.test(prefix)) {
      throw new PluginError(
        "INVALID_SETTINGS",
        `A request id prefix is letters and digits, not ${JSON.stringify(prefix)}`,
      );
    }
    this.#prefix = `${prefix}-`;
    this.#high = this.#prefix;
  }

  /**
   * The next id.
   *
   * @returns the prefix, a dash and the next sequence number in base 36 (the first is 1)
   */
  next(): string {
    let low = this.#low + 1;
    if (low === PAIR_SPAN) {
      low = 0;
      this.#high = this.#prefix + (++this.#highValue).toString(36);
    }
    this.#low = low;
    // Below 36² the number has no higher digits, and no leading zero.
    return this.#highValue === 0 ? this.#high + (low < 36 ? PAIRS[low][1] : PAIRS[low]) : this.#high + PAIRS[low];
  }
}
