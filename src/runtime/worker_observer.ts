/**
 * The host's half of a response observer that runs in a plugin's worker
 * (`ctx.onResponse`): records are collected on the host and sent in one
 * message per {@linkcode OBSERVER_BATCH_MS} (or per
 * {@linkcode OBSERVER_BATCH_SIZE} records), not one per request.
 *
 * @module
 */

import type { ResponseObserver, ResponseRecord } from "../routes.ts";

const hostSetTimeout = setTimeout;
const hostClearTimeout = clearTimeout;
/** How long an isolated plugin's response records wait on the host, at most, before they are sent. */
export const OBSERVER_BATCH_MS = 50;
/** How many response records are sent at once, at most. */
export const OBSERVER_BATCH_SIZE = 1024;

/**
 * A response observer that hands its records to `send` in batches.
 *
 * @param send sends one batch (never empty)
 * @returns the observer, and `flush` to send what is waiting now (on removal, before the worker stops)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchedObserver } from "./worker_observer.ts";
 * const sent: number[] = [];
 * const { observer, flush } = batchedObserver((records) => sent.push(records.length));
 * const record = { method: "GET", path: "/", route: "/", status: 200, ms: 1, at: Date.now() };
 * observer(record);
 * observer(record);
 * flush();
 * flush();
 * assert.deepEqual(sent, [2]);
 * ```
 */
export function batchedObserver(
  send: (records: ResponseRecord[]) => void,
): { observer: ResponseObserver; flush: () => void } {
  let batch: ResponseRecord[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    hostClearTimeout(timer);
    timer = undefined;
    const records = batch;
    batch = [];
    if (records.length) send(records);
  };
  const observer: ResponseObserver = (record) => {
    batch.push(record);
    if (batch.length >= OBSERVER_BATCH_SIZE) flush();
    else timer ??= hostSetTimeout(flush, OBSERVER_BATCH_MS);
  };
  return { observer, flush };
}
